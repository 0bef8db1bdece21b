namespace ConvKit.Vision.Faces;

/// <summary>
/// Principal component analysis of embeddings, for drawing them in 2-D: the directions of largest variance of the
/// centred rows (eigenvectors of their covariance, found by power iteration with deflation, in double precision),
/// and each row's coordinates along them.
/// </summary>
public static class EmbeddingProjection
{
    /// <summary>The coordinates (N, components) of each row of <paramref name="embeddings"/> along its first principal components.</summary>
    /// <param name="embeddings">(N, D) values, row-major</param>
    public static double[,] Pca(float[] embeddings, int count, int dimension, int components = 2)
    {
        if (count < 1 || dimension < 1 || embeddings.Length != count * dimension)
            throw new ArgumentException($"EmbeddingProjection.Pca: {embeddings.Length} values are not {count} rows of {dimension}.");
        if (components < 1 || components > dimension)
            throw new ArgumentOutOfRangeException(nameof(components), components, $"EmbeddingProjection.Pca: components must be in 1..{dimension}, not {components}.");
        var mean = new double[dimension];
        for (int i = 0; i < count; i++) for (int k = 0; k < dimension; k++) mean[k] += embeddings[i * dimension + k] / (double)count;
        var covariance = new double[dimension, dimension];
        var centred = new double[dimension];
        for (int i = 0; i < count; i++)
        {
            for (int k = 0; k < dimension; k++) centred[k] = embeddings[i * dimension + k] - mean[k];
            for (int a = 0; a < dimension; a++) for (int b = 0; b < dimension; b++) covariance[a, b] += centred[a] * centred[b];
        }
        var projection = new double[count, components];
        var random = Generator.For(0x9CA);
        for (int c = 0; c < components; c++)
        {
            var vector = Enumerable.Range(0, dimension).Select(_ => random.NextDouble() - 0.5).ToArray();
            double eigenvalue = 0;
            for (int iteration = 0; iteration < 500; iteration++)
            {
                var next = new double[dimension];
                for (int a = 0; a < dimension; a++) for (int b = 0; b < dimension; b++) next[a] += covariance[a, b] * vector[b];
                double norm = Math.Sqrt(next.Sum(v => v * v));
                if (norm == 0) break; // no variance left
                double change = 0;
                for (int a = 0; a < dimension; a++) { next[a] /= norm; change += Math.Abs(next[a] - vector[a]); }
                vector = next;
                eigenvalue = norm;
                if (change < 1e-12) break;
            }
            // Deflate: remove this component so the next iteration finds the following one.
            for (int a = 0; a < dimension; a++) for (int b = 0; b < dimension; b++) covariance[a, b] -= eigenvalue * vector[a] * vector[b];
            for (int i = 0; i < count; i++)
            {
                double sum = 0;
                for (int k = 0; k < dimension; k++) sum += (embeddings[i * dimension + k] - mean[k]) * vector[k];
                projection[i, c] = sum;
            }
        }
        return projection;
    }
}
