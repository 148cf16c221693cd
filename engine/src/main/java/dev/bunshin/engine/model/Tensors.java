package dev.bunshin.engine.model;

import dev.bunshin.engine.gguf.GgufException;
import dev.bunshin.engine.gguf.GgufFile;
import dev.bunshin.engine.gguf.GgufTensor;
import dev.bunshin.engine.tensor.WeightMatrices;
import dev.bunshin.engine.tensor.WeightMatrix;

/** Looks up tensors of a file with the shape the model expects; errors name the file, tensor and shapes. */
final class Tensors {
    private final GgufFile f;

    Tensors(GgufFile f) {
        this.f = f;
    }

    WeightMatrix matrix(String name, int rows, int cols) throws GgufException {
        GgufTensor t = f.tensor(name);
        if (t.cols() != cols || t.rows() != rows) {
            throw new GgufException(f.path() + ": tensor " + name + " has shape [" + t.rows() + ", " + t.cols()
                    + "] (rows, cols), expected [" + rows + ", " + cols + "]");
        }
        return WeightMatrices.of(f, t);
    }

    float[] vector(String name, int n) throws GgufException {
        GgufTensor t = f.tensor(name);
        if (t.elementCount() != n) {
            throw new GgufException(f.path() + ": tensor " + name + " has " + t.elementCount() + " values, expected " + n);
        }
        WeightMatrix m = WeightMatrices.of(f, t);
        float[] out = new float[n];
        for (int r = 0; r < m.rows(); r++) {
            m.dequantizeRow(r, out, r * m.cols());
        }
        return out;
    }

    float[] optionalVector(String name, int n) throws GgufException {
        return f.tensorOrNull(name) == null ? null : vector(name, n);
    }
}
