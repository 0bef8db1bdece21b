namespace ConvKit.Backends.Reference;

// Softmax and log-softmax along the middle axis of (outer, extent, inner), one line at a time, in float64.
public sealed partial class ReferenceBackend
{
    static int At(int o, int r, int i, int extent, int inner) => (o * extent + r) * inner + i;

    /// <inheritdoc/>
    public void Softmax(Storage x, int outer, int extent, int inner, Storage y) => SoftmaxLines(x, outer, extent, inner, y, log: false);

    /// <inheritdoc/>
    public void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y) => SoftmaxLines(x, outer, extent, inner, y, log: true);

    static void SoftmaxLines(Storage x, int outer, int extent, int inner, Storage y, bool log)
    {
        float[] input = Data(x), output = Data(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                // Shifting by the maximum changes nothing mathematically and keeps exp from overflowing.
                double max = double.NegativeInfinity, sum = 0;
                for (int r = 0; r < extent; r++) max = Math.Max(max, input[At(o, r, i, extent, inner)]);
                for (int r = 0; r < extent; r++) sum += Math.Exp(input[At(o, r, i, extent, inner)] - max);
                for (int r = 0; r < extent; r++)
                {
                    double shifted = input[At(o, r, i, extent, inner)] - max;
                    output[At(o, r, i, extent, inner)] = (float)(log ? shifted - Math.Log(sum) : Math.Exp(shifted) / sum);
                }
            }
    }

    /// <inheritdoc/>
    public void SoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx)
    {
        float[] output = Data(y), outputGrad = Data(dy), inputGrad = Data(dx);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double dot = 0;
                for (int r = 0; r < extent; r++)
                    dot += (double)outputGrad[At(o, r, i, extent, inner)] * output[At(o, r, i, extent, inner)];
                for (int r = 0; r < extent; r++)
                {
                    int at = At(o, r, i, extent, inner);
                    inputGrad[at] = (float)(output[at] * (outputGrad[at] - dot));
                }
            }
    }

    /// <inheritdoc/>
    public void LogSoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx)
    {
        float[] output = Data(y), outputGrad = Data(dy), inputGrad = Data(dx);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                double sum = 0;
                for (int r = 0; r < extent; r++) sum += outputGrad[At(o, r, i, extent, inner)];
                for (int r = 0; r < extent; r++)
                {
                    int at = At(o, r, i, extent, inner);
                    inputGrad[at] = (float)(outputGrad[at] - Math.Exp(output[at]) * sum);
                }
            }
    }
}
