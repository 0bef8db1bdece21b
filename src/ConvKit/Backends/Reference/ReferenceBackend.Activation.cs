namespace ConvKit.Backends.Reference;

// Activations, one element at a time: the function and its derivative, each read from the formula.
public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void Activation(ActivationOp op, float parameter, Storage x, Storage y)
    {
        float[] input = Data(x), output = Data(y);
        for (int i = 0; i < input.Length; i++)
        {
            float v = input[i];
            output[i] = op switch
            {
                ActivationOp.Relu => v > 0 ? v : 0,
                ActivationOp.LeakyRelu => v > 0 ? v : parameter * v,
                ActivationOp.Relu6 => v > 6 ? 6 : v > 0 ? v : 0,
                ActivationOp.Tanh => (float)Math.Tanh(v),
                ActivationOp.Sigmoid => (float)Sigmoid(v),
                ActivationOp.HardSigmoid => HardSigmoid(v),
                ActivationOp.HardSwish => v * HardSigmoid(v),
                ActivationOp.Silu => (float)(v * Sigmoid(v)),
                ActivationOp.Gelu => (float)(v * NormalCdf(v)),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            };
        }
    }

    /// <summary>min(max(x + 3, 0), 6) / 6, in float as PyTorch computes it.</summary>
    static float HardSigmoid(float x) => Math.Min(Math.Max(x + 3f, 0f), 6f) / 6f;

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>Φ(x) = ½(1 + erf(x/√2)), the standard normal distribution function.</summary>
    static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    /// <inheritdoc/>
    public void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX)
    {
        float[] input = Data(x), output = Data(y), outputGrad = Data(gradY), inputGrad = Data(gradX);
        for (int i = 0; i < input.Length; i++)
        {
            float v = input[i], g = outputGrad[i];
            double derivative = op switch
            {
                ActivationOp.Relu => v > 0 ? 1 : 0,
                ActivationOp.LeakyRelu => v > 0 ? 1 : parameter,
                ActivationOp.Relu6 => v > 0 && v < 6 ? 1 : 0,
                ActivationOp.Tanh => 1 - (double)output[i] * output[i],
                ActivationOp.Sigmoid => (double)output[i] * (1 - output[i]),
                ActivationOp.HardSigmoid => v > -3 && v < 3 ? 1.0 / 6 : 0,
                ActivationOp.HardSwish => v < -3 ? 0 : v <= 3 ? v / 3.0 + 0.5 : 1,
                ActivationOp.Silu => Sigmoid(v) * (1 + v * (1 - Sigmoid(v))),
                ActivationOp.Gelu => NormalCdf(v) + v * Math.Exp(-0.5 * v * v) / Math.Sqrt(2 * Math.PI),
                _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
            };
            inputGrad[i] = (float)(g * derivative);
        }
    }
}
