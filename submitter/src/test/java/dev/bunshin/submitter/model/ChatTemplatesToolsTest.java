package dev.bunshin.submitter.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Tools render through real tool-calling templates (Qwen 2.5's and Llama 3.1's, src/test/resources/templates) into
 * the prompt Hugging Face's {@code apply_chat_template(messages, tools=tools, add_generation_prompt=True)} gives,
 * which llama.cpp's {@code --jinja} reproduces. The expected strings are written out by hand from the templates,
 * with Python's {@code json.dumps} spacing for {@code tojson} ({@code ", "}, {@code ": "}; indent 4 for Llama).
 */
class ChatTemplatesToolsTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final String TOOL = "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": "
            + "\"Get the weather\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": "
            + "\"string\"}}, \"required\": [\"city\"]}}}";

    /** What Hugging Face renders for {@link #conversation} with Qwen 2.5's template, and with Qwen 3's. */
    static final String QWEN_PROMPT = """
            <|im_start|>system
            You are a helpful assistant.

            # Tools

            You may call one or more functions to assist with the user query.

            You are provided with function signatures within <tools></tools> XML tags:
            <tools>
            {"type": "function", "function": {"name": "get_weather", "description": "Get the weather", \
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
            </tools>

            For each function call, return a json object with function name and arguments within \
            <tool_call></tool_call> XML tags:
            <tool_call>
            {"name": <function-name>, "arguments": <args-json-object>}
            </tool_call><|im_end|>
            <|im_start|>user
            What's the weather in Paris?<|im_end|>
            <|im_start|>assistant
            <tool_call>
            {"name": "get_weather", "arguments": {"city": "Paris"}}
            </tool_call><|im_end|>
            <|im_start|>user
            <tool_response>
            22°C and sunny
            </tool_response><|im_end|>
            <|im_start|>assistant
            """;

    static List<Object> tools() throws IOException {
        return List.of(JSON.readValue(TOOL, Object.class));
    }

    static List<ChatTemplates.Message> conversation() {
        Map<String, Object> function = new LinkedHashMap<>();
        function.put("name", "get_weather");
        function.put("arguments", Map.of("city", "Paris"));
        Map<String, Object> call = new LinkedHashMap<>();
        call.put("id", "call_1");
        call.put("type", "function");
        call.put("function", function);
        return List.of(
                new ChatTemplates.Message("system", "You are a helpful assistant."),
                new ChatTemplates.Message("user", "What's the weather in Paris?"),
                new ChatTemplates.Message("assistant", "", List.of(call), null, null),
                new ChatTemplates.Message("tool", "22°C and sunny", List.of(), "call_1", "get_weather"));
    }

    static String template(String name) throws IOException {
        try (InputStream in = ChatTemplatesToolsTest.class.getResourceAsStream("/templates/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void qwen25RendersToolsCallsAndResultsAsHuggingFaceDoes() throws IOException {
        String t = template("qwen2.5-instruct.jinja");
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(t, "tools"));
        assertEquals(QWEN_PROMPT, ChatTemplates.render(t, conversation(), tools(), true, "", "<|im_end|>"));
    }

    @Test
    void qwen25WithoutToolsIsItsPlainChat() throws IOException {
        assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
                ChatTemplates.render(template("qwen2.5-instruct.jinja"), List.of(new ChatTemplates.Message("user", "Hi")),
                        null, true, "", ""));
    }

    @Test
    void qwen3RendersToolsThroughItsNamespaceAndReversedLoop() throws IOException {
        String t = template("qwen3.jinja");
        assertEquals(ToolCallFormat.HERMES, ToolCallFormat.of(t, "tools"));
        // The assistant turn before the last user query gets no <think> block; the tool result is a user turn.
        assertEquals(QWEN_PROMPT, ChatTemplates.render(t, conversation(), tools(), true, "", "<|im_end|>"));
    }

    @Test
    void jinjaIsReadAsPythonReadsIt() {
        assertEquals("{%- set ns = namespace(a=(true), b=(messages|length - 1)) %}{% for m in (messages|reverse) %}",
                ChatTemplates.pythonReadings(
                        "{%- set ns = namespace(a=true, b=messages|length - 1) %}{% for m in messages[::-1] %}"));
        assertEquals("x = namespace(f=(g(1, 2)), s=(',)'))", ChatTemplates.namespaceValuesInBrackets(
                "x = namespace(f=g(1, 2), s=',)')"));
    }

    @Test
    void llama31PutsToolsInTheFirstUserMessageAndQuotesToolResults() throws IOException {
        String t = template("llama3.1-instruct.jinja");
        assertEquals(ToolCallFormat.LLAMA3, ToolCallFormat.of(t, "tools"));
        String toolJson = """
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Get the weather",
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "city": {
                                    "type": "string"
                                }
                            },
                            "required": [
                                "city"
                            ]
                        }
                    }
                }""";
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Environment: ipython\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
                + "You are a helpful assistant.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\n"
                + "Given the following functions, please respond with a JSON for a function call with its proper "
                + "arguments that best answers the given prompt.\n\n"
                + "Respond in the format {\"name\": function name, \"parameters\": dictionary of argument name and its "
                + "value}.Do not use variables.\n\n"
                + toolJson + "\n\n"
                + "What's the weather in Paris?<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n"
                + "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}<|eot_id|>"
                + "<|start_header_id|>ipython<|end_header_id|>\n\n\"22°C and sunny\"<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                ChatTemplates.render(t, conversation(), tools(), true, "<|begin_of_text|>", "<|eot_id|>"));
    }

    @Test
    void aTemplateWithoutToolsGetsThemInItsSystemMessage() throws IOException {
        String chatml = "{% for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}"
                + "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
        assertEquals(ToolCallFormat.GENERIC, ToolCallFormat.of(chatml, "tools"));
        assertEquals(ToolCallFormat.GENERIC, ToolCallFormat.of(null, "tools"));
        String rendered = ChatTemplates.render(chatml, GenericTools.inline(conversation(), tools()), null, true, "", "");
        String qwen = ChatTemplates.render(template("qwen2.5-instruct.jinja"), conversation(), tools(), true, "", "");
        // Through a plain ChatML template, the very prompt Qwen 2.5's own tool template writes.
        assertEquals(qwen, rendered);
    }

    @Test
    void notBindsLooserThanATestAsInPythonsJinja() {
        assertEquals("{%- if not (tools is defined) %}{% if not (m['role'] is not none) and not x %}",
                ChatTemplates.notBindsLooserThanIs("{%- if not tools is defined %}{% if not m['role'] is not none and not x %}"));
        String t = "{% if not tools is defined %}undefined{% else %}{{ tools | length }} tools{% endif %}";
        assertEquals("undefined", ChatTemplates.render(t, List.of(), null, true, "", ""));
        assertEquals("1 tools", ChatTemplates.render(t, List.of(), List.of(Map.of()), true, "", ""));
    }

    @Test
    void tojsonIsPythonsJsonDumps() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("b", List.of(1, 2.5, true));
        m.put("a", "é\"\n");
        m.put("n", null);
        m.put("e", Map.of());
        assertEquals("{\"b\": [1, 2.5, true], \"a\": \"é\\\"\\n\", \"n\": null, \"e\": {}}", PythonJson.dumps(m, -1));
        assertEquals("{\n  \"x\": [\n    1.0\n  ]\n}", PythonJson.dumps(Map.of("x", List.of(1.0)), 2));
    }
}
