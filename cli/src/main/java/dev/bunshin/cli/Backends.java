package dev.bunshin.cli;

import dev.bunshin.engine.EngineOptions;
import dev.bunshin.engine.Generator;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.llama.StageBackends;

import java.io.IOException;

/** The {@code --backend} option of the commands that run a model. */
final class Backends {
    private Backends() {}

    /** The backend name, or a usage error naming the command and the accepted names. */
    static String check(String command, String name) {
        if (!StageBackends.NAMES.contains(name)) {
            throw new UsageException(command + ": option --backend: unknown backend \"" + name + "\" (java, llama.cpp)");
        }
        return name;
    }

    static Generator generator(String backend, GgufFile file, int nStages, EngineOptions options) throws IOException {
        return StageBackends.generator(backend, file, nStages, options);
    }
}
