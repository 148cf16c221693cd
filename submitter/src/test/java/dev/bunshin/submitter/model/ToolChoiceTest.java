package dev.bunshin.submitter.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** tool_choice "required" or a named function becomes the constraint the tail's structured sampler takes. */
class ToolChoiceTest {

    static final ObjectMapper JSON = new ObjectMapper();

    static List<Object> tools() throws Exception {
        return JSON.readValue("[{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"parameters\": "
                + "{\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}}}}}, "
                + "{\"type\": \"function\", \"function\": {\"name\": \"get_time\"}}]", List.class);
    }

    @Test
    void requiredAllowsAnyToolInHermesTags() throws Exception {
        Map<String, Object> c = new ToolChoice(ToolChoice.Mode.REQUIRED, null).constraint(tools(), ToolCallFormat.HERMES);
        assertEquals("{\"type\":\"json_schema\",\"schema\":{\"anyOf\":["
                + "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_weather\"},\"arguments\":{\"type\":"
                + "\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}},\"required\":[\"name\",\"arguments\"],"
                + "\"additionalProperties\":false},"
                + "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_time\"},\"arguments\":{\"type\":"
                + "\"object\"}},\"required\":[\"name\",\"arguments\"],\"additionalProperties\":false}]},"
                + "\"prefix\":\"<tool_call>\\n\",\"suffix\":\"\\n</tool_call>\"}", JSON.writeValueAsString(c));
    }

    @Test
    void aNamedFunctionAllowsOnlyItInLlamasShape() throws Exception {
        Map<String, Object> c = new ToolChoice(ToolChoice.Mode.REQUIRED, "get_time").constraint(tools(), ToolCallFormat.LLAMA3);
        assertEquals("{\"type\":\"json_schema\",\"schema\":{\"anyOf\":["
                + "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":\"get_time\"},\"parameters\":{\"type\":"
                + "\"object\"}},\"required\":[\"name\",\"parameters\"],\"additionalProperties\":false}]},"
                + "\"prefix\":\"\",\"suffix\":\"\"}", JSON.writeValueAsString(c));
        assertThrows(IllegalArgumentException.class,
                () -> new ToolChoice(ToolChoice.Mode.REQUIRED, "nope").constraint(tools(), ToolCallFormat.HERMES));
    }
}
