package dev.bunshin.submitter.model;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;

import java.util.Map;

/**
 * Jinja's {@code is iterable} as Python answers it: strings and mappings are iterable too. Llama 3.1's template
 * writes a tool result with {@code message.content is mapping or message.content is iterable} → {@code tojson}, so a
 * string result goes into its prompt JSON-quoted, as Hugging Face and llama.cpp render it; Jinjava's own test says
 * a string is not iterable.
 */
final class PythonIterable implements ExpTest {

    @Override
    public String getName() {
        return "iterable";
    }

    @Override
    public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
        return var instanceof String || var instanceof Iterable<?> || var instanceof Map<?, ?>
                || var != null && var.getClass().isArray();
    }
}
