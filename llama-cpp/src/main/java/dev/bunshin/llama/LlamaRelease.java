package dev.bunshin.llama;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one llama.cpp release Bunshin binds to, and where its libllama is. The release is pinned in the parent pom
 * ({@code node-llama-cpp.version}, {@code llama.cpp.release}); the build copies it into
 * {@code bunshin-llama.properties} and obtains the library ({@code llama-cpp/fetch-libllama.sh}) into
 * {@code ~/.cache/bunshin/llama.cpp/<version>/lib}.
 *
 * <p>A user's own build of the same release (CUDA, ROCm, Metal) is named with {@code -Dbunshin.llama.lib=PATH} or
 * {@code BUNSHIN_LLAMA_LIB=PATH} (the library file or its directory). Its release is read from the file name
 * ({@code libllama.v0.5.0.so}, as node-llama-cpp names it) or from {@code _nlcBuildMetadata.json} beside it.
 */
public final class LlamaRelease {
    private LlamaRelease() {}

    private static final Properties PINNED = load();

    /** The npm package version of {@code @node-llama-cpp/linux-x64} the build obtains. */
    public static final String NPM_VERSION = PINNED.getProperty("node-llama-cpp.version");
    /** The llama.cpp release, e.g. {@code v0.5.0}: the struct layouts of {@link LlamaLayouts} are this release's. */
    public static final String RELEASE = PINNED.getProperty("llama.cpp.release");

    private static final Pattern NAMED_RELEASE = Pattern.compile("libllama\\.(?:[a-z0-9]+\\.)?(v[0-9][0-9.]*[0-9])\\.(so|dylib|dll)");
    private static final Pattern METADATA_RELEASE = Pattern.compile("\"release\"\\s*:\\s*\"([^\"]+)\"");

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = LlamaRelease.class.getResourceAsStream("/bunshin-llama.properties")) {
            if (in == null) throw new IllegalStateException("bunshin-llama.properties missing from the classpath");
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /** Where the build puts the library it obtained. */
    public static Path defaultDir() {
        return Path.of(PINNED.getProperty("llama.cpp.dir")).resolve("lib");
    }

    /**
     * The libllama to load: the user's choice, else the one the build obtained.
     *
     * @throws LlamaUnavailableException naming the path and the expected release when there is none or it is
     *                                   of another release
     */
    public static Path locate() {
        Setting chosen = Setting.of("bunshin.llama.lib", "BUNSHIN_LLAMA_LIB");
        if (chosen == null) {
            Path p = defaultDir().resolve("libllama." + RELEASE + ".so");
            if (!Files.isRegularFile(p)) {
                throw new LlamaUnavailableException("no libllama at " + p + ": the build obtains llama.cpp " + RELEASE
                        + " (npm @node-llama-cpp/linux-x64@" + NPM_VERSION + ") there; rebuild with npm on the PATH, "
                        + "or point -Dbunshin.llama.lib / BUNSHIN_LLAMA_LIB at a libllama of release " + RELEASE);
            }
            return p;
        }
        String source = chosen.source();
        Path p = Path.of(chosen.value()).toAbsolutePath();
        if (Files.isDirectory(p)) {
            Path named = p.resolve("libllama." + RELEASE + ".so");
            p = Files.isRegularFile(named) ? named : variant(p).orElse(p.resolve("libllama.so"));
        }
        if (!Files.isRegularFile(p)) {
            throw new LlamaUnavailableException(source + " names " + p + ", which does not exist (expected a libllama of "
                    + "llama.cpp " + RELEASE + ")");
        }
        String release = releaseOf(p);
        if (release == null) {
            throw new LlamaUnavailableException("cannot tell the llama.cpp release of " + p + " (" + source + "): expected "
                    + RELEASE + ", named libllama." + RELEASE + ".so or with _nlcBuildMetadata.json beside it");
        }
        if (!release.equals(RELEASE)) {
            throw new LlamaUnavailableException(p + " (" + source + ") is llama.cpp " + release + "; Bunshin binds to "
                    + RELEASE + " (its struct layouts differ between releases)");
        }
        return p;
    }

    /** A GPU build's library in {@code dir}, as node-llama-cpp names it: {@code libllama.vulkan.v0.5.0.so}. */
    private static java.util.Optional<Path> variant(Path dir) {
        try (var files = Files.list(dir)) {
            return files.filter(f -> {
                Matcher m = NAMED_RELEASE.matcher(f.getFileName().toString());
                return m.matches() && m.group(1).equals(RELEASE) && m.group(2).equals("so");
            }).findFirst();
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
    }

    /**
     * A setting given as {@code -Dproperty} or, failing that, as an environment variable: its value (trimmed, never
     * blank) and where it came from, for messages.
     */
    record Setting(String value, String source) {
        /** The setting, or null when neither is given. */
        static Setting of(String property, String env) {
            String v = System.getProperty(property);
            if (v != null && !v.isBlank()) return new Setting(v.trim(), "-D" + property);
            v = System.getenv(env);
            return v != null && !v.isBlank() ? new Setting(v.trim(), env) : null;
        }
    }

    /** The release a library file declares by its name or its build metadata; null if neither says. */
    static String releaseOf(Path lib) {
        Matcher m = NAMED_RELEASE.matcher(lib.getFileName().toString());
        if (m.matches()) return m.group(1);
        Path meta = lib.resolveSibling("_nlcBuildMetadata.json");
        if (Files.isRegularFile(meta)) {
            try {
                Matcher r = METADATA_RELEASE.matcher(Files.readString(meta));
                if (r.find()) return r.group(1);
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }
}
