package dev.bunshin.submitter.model;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Tools for a model whose template does not render them ({@link ToolCallFormat#GENERIC}): the tool list and
 * Hermes' instructions join the system message (in Qwen 2.5's words, the most common tool prompt open models are
 * trained on), earlier calls become {@code <tool_call>} text in the assistant's message, and tool results become
 * {@code <tool_response>} user messages, so that any template can render the conversation.
 */
final class GenericTools {

    private GenericTools() {}

    static List<ChatTemplates.Message> inline(List<ChatTemplates.Message> messages, List<Object> tools) {
        List<ChatTemplates.Message> out = new ArrayList<>();
        StringBuilder sys = new StringBuilder();
        int from = 0;
        if (!messages.isEmpty() && "system".equals(messages.getFirst().role())) {
            sys.append(messages.getFirst().content()).append("\n\n");
            from = 1;
        }
        sys.append("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
                + "You are provided with function signatures within <tools></tools> XML tags:\n<tools>");
        for (Object t : tools) {
            sys.append('\n').append(PythonJson.dumps(t, -1));
        }
        sys.append("\n</tools>\n\nFor each function call, return a json object with function name and arguments "
                + "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
                + "\"arguments\": <args-json-object>}\n</tool_call>");
        out.add(new ChatTemplates.Message("system", sys.toString()));
        for (ChatTemplates.Message m : messages.subList(from, messages.size())) {
            if ("tool".equals(m.role())) {
                out.add(new ChatTemplates.Message("user", "<tool_response>\n" + m.content() + "\n</tool_response>"));
            } else if (!m.toolCalls().isEmpty()) {
                StringBuilder sb = new StringBuilder(m.content() == null ? "" : m.content());
                for (Map<String, Object> call : m.toolCalls()) {
                    Map<?, ?> f = (Map<?, ?>) call.get("function");
                    sb.append(sb.isEmpty() ? "" : "\n").append("<tool_call>\n{\"name\": ")
                            .append(PythonJson.dumps(f.get("name"), -1)).append(", \"arguments\": ")
                            .append(PythonJson.dumps(f.get("arguments"), -1)).append("}\n</tool_call>");
                }
                out.add(new ChatTemplates.Message(m.role(), sb.toString()));
            } else {
                out.add(m);
            }
        }
        return out;
    }
}
