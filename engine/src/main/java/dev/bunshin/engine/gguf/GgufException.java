package dev.bunshin.engine.gguf;

import java.io.IOException;

/** A GGUF file that cannot be used; the message names the file and the offending key, tensor or value. */
public class GgufException extends IOException {
    public GgufException(String message) {
        super(message);
    }
}
