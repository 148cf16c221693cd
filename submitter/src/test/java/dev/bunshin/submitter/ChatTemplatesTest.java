package dev.bunshin.submitter;

import dev.bunshin.submitter.api.ApiException;
import dev.bunshin.submitter.model.ChatTemplates;
import dev.bunshin.engine.TestModels;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufKeys;
import dev.bunshin.engine.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Chat templates render as llama.cpp renders them (Jinja with trim_blocks and lstrip_blocks; its fallback is
 * ChatML). Expected strings are the formats' published shapes (ChatML, Llama 3, Phi-3, Mistral [INST]), written
 * out by hand from those formats; llama.cpp's tests/test-chat-template.cpp uses the same conversation.
 */
class ChatTemplatesTest {

    static final List<ChatTemplates.Message> CONVERSATION = List.of(
            new ChatTemplates.Message("system", "You are a helpful assistant"),
            new ChatTemplates.Message("user", "Hello"),
            new ChatTemplates.Message("assistant", "Hi there"),
            new ChatTemplates.Message("user", "Who are you"),
            new ChatTemplates.Message("assistant", "   I am an assistant   "),
            new ChatTemplates.Message("user", "Another question"));

    @Test
    void phi3VocabTemplateRendersAndTokenizesItsSpecialTokens() throws Exception {
        try (GgufFile f = GgufFile.open(TestModels.require("vocab/ggml-vocab-phi-3.gguf"))) {
            String template = f.getString(GgufKeys.TOKENIZER_CHAT_TEMPLATE);
            Tokenizer tok = Tokenizer.fromGguf(f);
            String bos = tok.tokenText(tok.bos());
            assertEquals("<s>", bos);
            String rendered = ChatTemplates.render(template, CONVERSATION, true, bos, tok.tokenText(tok.eos()));
            // Phi-3's template drops the system message and opens the assistant turn after every user turn.
            assertEquals("<s><|user|>\nHello<|end|>\n<|assistant|>\nHi there<|end|>\n<|user|>\nWho are you<|end|>\n"
                    + "<|assistant|>\n   I am an assistant   <|end|>\n<|user|>\nAnother question<|end|>\n<|assistant|>\n",
                    rendered);
            // parse_special: the turn markers are single control tokens, not text.
            int[] ids = tok.encode(rendered.substring(bos.length()), true, true);
            assertEquals(tok.bos(), ids[0]);
            assertEquals(tok.tokenId("<|user|>"), ids[1]);
            assertEquals(32010, tok.tokenId("<|user|>"));
            assertEquals(32007, tok.tokenId("<|end|>"));
            assertEquals(32001, tok.tokenId("<|assistant|>"));
            assertEquals(3, Arrays.stream(ids).filter(t -> t == 32010).count());
            // The prompt ends with <|assistant|> and its newline (which llama.cpp's phi-3 vocab rstrips into it).
            assertTrue(lastIndexOf(ids, 32001) >= ids.length - 2, Arrays.toString(ids));
        }
    }

    @Test
    void chatmlFallbackIsLlamaCpps() {
        assertEquals("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                + "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                + "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\nAnother question<|im_end|>\n"
                + "<|im_start|>assistant\n", ChatTemplates.chatml(CONVERSATION, true));
    }

    @Test
    void aChatmlJinjaTemplateWithWhitespaceControlMatchesTheFallback() {
        String template = """
                {%- for message in messages %}
                    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- '<|im_start|>assistant\\n' }}
                {%- endif %}
                """;
        assertEquals(ChatTemplates.chatml(CONVERSATION, true), ChatTemplates.render(template, CONVERSATION, true, "", ""));
        assertEquals(ChatTemplates.chatml(CONVERSATION, false), ChatTemplates.render(template, CONVERSATION, false, "", ""));
    }

    @Test
    void llama3TemplateTrimsContentAndWritesHeaders() {
        String template = "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
                + "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}"
                + "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}{% endfor %}"
                + "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
        assertEquals("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nHi there<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nWho are you<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n",
                ChatTemplates.render(template, CONVERSATION, true, "<|begin_of_text|>", "<|end_of_text|>"));
    }

    @Test
    void raiseExceptionInATemplateIsA400WithItsMessage() {
        String mistral = "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
                + "(loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
                + "{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
                + "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% endif %}{% endfor %}";
        assertEquals("<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]",
                ChatTemplates.render(mistral, CONVERSATION.subList(1, 4), true, "<s>", "</s>"));
        ApiException e = assertThrows(ApiException.class,
                () -> ChatTemplates.render(mistral, CONVERSATION, true, "<s>", "</s>"));
        assertEquals(400, e.status());
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().contains("Conversation roles must alternate"), e.getMessage());
    }

    @Test
    void pythonStringMethodsWork() {
        String t = "{% for m in messages %}{% if m.role.startswith('sys') %}{{ m.content.upper() }}|{% endif %}"
                + "{% if m.content.strip().endswith('assistant') %}{{ m.content.strip().split(' ')[-1] }}|{% endif %}{% endfor %}"
                + "{{ strftime_now('%Y') | length }}";
        assertEquals("YOU ARE A HELPFUL ASSISTANT|assistant|assistant|4", ChatTemplates.render(t, CONVERSATION, true, "", ""));
    }

    private static int lastIndexOf(int[] a, int v) {
        for (int i = a.length - 1; i >= 0; i--) {
            if (a[i] == v) return i;
        }
        return -1;
    }
}
