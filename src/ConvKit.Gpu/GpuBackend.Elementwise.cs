using ILGPU;
using ILGPU.Runtime;

namespace ConvKit.Backends.Gpu;

// Element-wise kernels: one value in, one value out, each thread a strided run of elements.
public sealed partial class GpuBackend
{
    Action<AcceleratorStream, Index1D, Work, ArrayView<float>, float>? fill;
    Action<AcceleratorStream, Index1D, Work, ArrayView<int>, ArrayView<float>>? indicesToFloat;
    Action<AcceleratorStream, Index1D, Work, int, ArrayView<float>, ArrayView<float>>? unary;
    Action<AcceleratorStream, Index1D, Work, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? binary;
    Action<AcceleratorStream, Index1D, Work, int, float, ArrayView<float>, ArrayView<float>>? activation;
    Action<AcceleratorStream, Index1D, Work, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>? activationBackward;

    /// <inheritdoc/>
    public override void Fill(Storage storage, float value)
    {
        var (threads, work) = For(storage.Length);
        Load(ref fill, a => a.LoadAutoGroupedKernel<Index1D, Work, ArrayView<float>, float>(FillKernel))(Stream, threads, work, Data(storage), value);
    }

    static void FillKernel(Index1D t, Work w, ArrayView<float> y, float value)
    {
        for (int i = t; i < w.Count; i += w.Stride) y[i] = value;
    }

    /// <inheritdoc/>
    public override void IndicesToFloat(Storage indices, Storage values)
    {
        var (threads, work) = For(indices.Length);
        Load(ref indicesToFloat, a => a.LoadAutoGroupedKernel<Index1D, Work, ArrayView<int>, ArrayView<float>>(IndicesToFloatKernel))(
            Stream, threads, work, Indices(indices), Data(values));
    }

    static void IndicesToFloatKernel(Index1D t, Work w, ArrayView<int> x, ArrayView<float> y)
    {
        for (int i = t; i < w.Count; i += w.Stride) y[i] = x[i];
    }

    /// <inheritdoc/>
    public override void Unary(UnaryOp op, Storage x, Storage y)
    {
        var (threads, work) = For(x.Length);
        Load(ref unary, a => a.LoadAutoGroupedKernel<Index1D, Work, int, ArrayView<float>, ArrayView<float>>(UnaryKernel))(
            Stream, threads, work, (int)op, Data(x), Data(y));
    }

    static void UnaryKernel(Index1D t, Work w, int op, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            float v = x[i];
            y[i] = (UnaryOp)op switch
            {
                UnaryOp.Neg => -v,
                UnaryOp.Exp => MathF.Exp(v),
                UnaryOp.Log => MathF.Log(v),
                UnaryOp.Sqrt => MathF.Sqrt(v),
                UnaryOp.Abs => MathF.Abs(v),
                UnaryOp.Sign => v > 0 ? 1 : v < 0 ? -1 : 0, // NaN gives 0, as torch.sign
                UnaryOp.Square => v * v,
                _ => Erf(v),
            };
        }
    }

    /// <summary>
    /// erf x by its Maclaurin series in double, as the reference backend computes it: below |x| = 4 the terms stay
    /// under 10⁷, so double keeps more digits than float needs; beyond, erf is ±1 to float precision.
    /// </summary>
    static float Erf(float value)
    {
        double x = value;
        if (double.IsNaN(x)) return value;
        if (Math.Abs(x) >= 4) return x > 0 ? 1 : -1;
        double term = x, sum = x;
        for (int n = 1; n < 200 && Math.Abs(term) > 1e-17 * Math.Abs(sum); n++)
        {
            term *= -x * x / n;
            sum += term / (2 * n + 1);
        }
        return (float)(1.1283791670955126 * sum);
    }

    /// <inheritdoc/>
    public override void Binary(BinaryOp op, Storage a, int[] aShape, Storage b, int[] bShape, Storage y, int[] yShape)
    {
        var (threads, work) = For(y.Length);
        Load(ref binary, acc => acc.LoadAutoGroupedKernel<Index1D, Work, int, ArrayView<int>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(BinaryKernel))(
            Stream, threads, work, (int)op, Table(BroadcastTable(yShape, aShape, bShape)), Data(a), Data(b), Data(y));
    }

    /// <summary>
    /// [rank, the output's sizes, a's strides, b's strides], strides aligned to the output's axes from the last one and
    /// 0 where an operand broadcasts (an axis of size 1 or a missing one).
    /// </summary>
    static int[] BroadcastTable(int[] yShape, params int[][] operands)
    {
        int rank = yShape.Length;
        var table = new int[1 + rank * (1 + operands.Length)];
        table[0] = rank;
        yShape.CopyTo(table, 1);
        for (int o = 0; o < operands.Length; o++)
        {
            int[] shape = operands[o];
            int stride = 1;
            for (int d = 1; d <= Math.Min(rank, shape.Length); d++)
            {
                table[1 + rank * (1 + o) + rank - d] = shape[^d] == 1 ? 0 : stride;
                stride *= shape[^d];
            }
        }
        return table;
    }

    /// <summary>The flat index in operand <paramref name="operand"/> of output element <paramref name="flat"/> (see <see cref="BroadcastTable"/>).</summary>
    static int BroadcastSource(ArrayView<int> table, int operand, int flat)
    {
        int rank = table[0], index = 0;
        for (int d = rank - 1; d >= 0; d--)
        {
            int size = table[1 + d];
            index += flat % size * table[1 + rank * (1 + operand) + d];
            flat /= size;
        }
        return index;
    }

    static void BinaryKernel(Index1D t, Work w, int op, ArrayView<int> table, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            float l = a[BroadcastSource(table, 0, i)], r = b[BroadcastSource(table, 1, i)];
            y[i] = (BinaryOp)op switch
            {
                BinaryOp.Add => l + r,
                BinaryOp.Sub => l - r,
                BinaryOp.Mul => l * r,
                BinaryOp.Div => l / r,
                BinaryOp.Pow => MathF.Pow(l, r),
                // torch.maximum and torch.minimum propagate NaN.
                BinaryOp.Maximum => float.IsNaN(l) || float.IsNaN(r) ? float.NaN : l > r ? l : r,
                BinaryOp.Minimum => float.IsNaN(l) || float.IsNaN(r) ? float.NaN : l < r ? l : r,
                BinaryOp.Equal => l == r ? 1 : 0,
                BinaryOp.NotEqual => l != r ? 1 : 0,
                BinaryOp.Less => l < r ? 1 : 0,
                BinaryOp.LessEqual => l <= r ? 1 : 0,
                BinaryOp.Greater => l > r ? 1 : 0,
                _ => l >= r ? 1 : 0,
            };
        }
    }

    /// <inheritdoc/>
    public override void Activation(ActivationOp op, float parameter, Storage x, Storage y)
    {
        var (threads, work) = For(x.Length);
        Load(ref activation, a => a.LoadAutoGroupedKernel<Index1D, Work, int, float, ArrayView<float>, ArrayView<float>>(ActivationKernel))(
            Stream, threads, work, (int)op, parameter, Data(x), Data(y));
    }

    static void ActivationKernel(Index1D t, Work w, int op, float parameter, ArrayView<float> x, ArrayView<float> y)
    {
        for (int i = t; i < w.Count; i += w.Stride) y[i] = Activate(op, parameter, x[i]);
    }

    /// <summary>The activation <paramref name="op"/> of one value (also the convolution's fused epilogue).</summary>
    internal static float Activate(int op, float parameter, float v) => (ActivationOp)op switch
    {
        ActivationOp.Relu => v > 0 ? v : 0,
        ActivationOp.LeakyRelu => v > 0 ? v : parameter * v,
        ActivationOp.Relu6 => v > 6 ? 6 : v > 0 ? v : 0,
        ActivationOp.Tanh => MathF.Tanh(v),
        ActivationOp.Sigmoid => Sigmoid(v),
        ActivationOp.HardSigmoid => HardSigmoid(v),
        ActivationOp.HardSwish => v * HardSigmoid(v),
        ActivationOp.Gelu => v * 0.5f * (1f + Erf(v * 0.707106781f)),
        _ => v * Sigmoid(v),
    };

    static float HardSigmoid(float x) => MathF.Min(MathF.Max(x + 3f, 0f), 6f) / 6f;

    static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <inheritdoc/>
    public override void ActivationBackward(ActivationOp op, float parameter, Storage x, Storage y, Storage gradY, Storage gradX)
    {
        var (threads, work) = For(x.Length);
        Load(ref activationBackward, a => a.LoadAutoGroupedKernel<Index1D, Work, int, float, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>>(ActivationBackwardKernel))(
            Stream, threads, work, (int)op, parameter, Data(x), Data(y), Data(gradY), Data(gradX));
    }

    static void ActivationBackwardKernel(Index1D t, Work w, int op, float parameter,
        ArrayView<float> x, ArrayView<float> y, ArrayView<float> gradY, ArrayView<float> gradX)
    {
        for (int i = t; i < w.Count; i += w.Stride)
        {
            float v = x[i];
            float derivative = (ActivationOp)op switch
            {
                ActivationOp.Relu => v > 0 ? 1 : 0,
                ActivationOp.LeakyRelu => v > 0 ? 1 : parameter,
                ActivationOp.Relu6 => v > 0 && v < 6 ? 1 : 0,
                ActivationOp.Tanh => 1 - y[i] * y[i],
                ActivationOp.Sigmoid => y[i] * (1 - y[i]),
                ActivationOp.HardSigmoid => v > -3 && v < 3 ? 1f / 6 : 0,
                ActivationOp.HardSwish => v < -3 ? 0 : v <= 3 ? v / 3f + 0.5f : 1,
                ActivationOp.Gelu => 0.5f * (1f + Erf(v * 0.707106781f)) + v * MathF.Exp(-0.5f * v * v) * 0.398942280f,
                _ => Sigmoid(v) * (1 + v * (1 - Sigmoid(v))),
            };
            gradX[i] = gradY[i] * derivative;
        }
    }
}
