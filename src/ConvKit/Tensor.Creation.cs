
namespace ConvKit;

// Creation functions. Shapes are given as params arrays: Tensor.Zeros(2, 3).
public sealed partial class Tensor
{
    static Tensor Allocate(int[] shape)
    {
        var dims = (int[])shape.Clone();
        return new Tensor(Backends.Backend.Default.Allocate(Shapes.Numel(dims)), dims);
    }

    /// <summary>A zero-filled tensor on <paramref name="backend"/> (outputs that kernels only partly write, e.g. scatters).</summary>
    internal static Tensor Empty(int[] shape, Backends.IBackend backend) => new(backend.Allocate(Shapes.Numel(shape)), shape);

    /// <summary>A zero-filled <see cref="Backends.DType.Int32"/> tensor on <paramref name="backend"/>, for kernels that write indices.</summary>
    internal static Tensor Indices(int[] shape, Backends.IBackend backend) => new(backend.AllocateIndices(Shapes.Numel(shape)), shape);

    /// <summary>A tensor whose values are garbage until a kernel overwrites every one of them.</summary>
    internal static Tensor Uninitialized(int[] shape, Backends.IBackend backend) =>
        new(backend.AllocateUninitialized(Shapes.Numel(shape)), shape);

    /// <summary>A tensor of <paramref name="shape"/> filled with 0.</summary>
    public static Tensor Zeros(params int[] shape) => Allocate(shape);

    /// <summary>A tensor of <paramref name="shape"/> filled with 1.</summary>
    public static Tensor Ones(params int[] shape) => Full(shape, 1f);

    /// <summary>A tensor of <paramref name="shape"/> filled with <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, float value)
    {
        var tensor = Allocate(shape);
        if (value != 0) tensor.Backend.Fill(tensor.Storage, value);
        return tensor;
    }

    /// <summary>Zeros of <paramref name="like"/>'s shape, on its backend.</summary>
    public static Tensor ZerosLike(Tensor like) => Empty(like.Dims, like.Backend);

    /// <summary>Ones of <paramref name="like"/>'s shape, on its backend.</summary>
    public static Tensor OnesLike(Tensor like)
    {
        var tensor = Empty(like.Dims, like.Backend);
        tensor.Backend.Fill(tensor.Storage, 1f);
        return tensor;
    }

    /// <summary>A rank-0 tensor holding one value.</summary>
    public static Tensor Scalar(float value) => Scalar(value, Backends.Backend.Default);

    /// <summary>A rank-0 tensor holding one value, on <paramref name="backend"/>.</summary>
    public static Tensor Scalar(float value, Backends.IBackend backend) => new(backend.FromArray([value]), []);

    /// <summary>A tensor holding <paramref name="values"/> (copied) in the given shape; a 1-D tensor when no shape is given.</summary>
    public static Tensor FromArray(float[] values, params int[] shape) => FromArray(values, Backends.Backend.Default, shape);

    /// <summary>A tensor on <paramref name="backend"/> holding <paramref name="values"/> (copied) in the given shape; 1-D when no shape is given.</summary>
    public static Tensor FromArray(float[] values, Backends.IBackend backend, params int[] shape) =>
        new(backend.FromArray(values), DimsHolding("FromArray", values.Length, shape));

    /// <summary>
    /// An <see cref="Backends.DType.Int32"/> tensor holding <paramref name="values"/> (copied) in the given shape (1-D when
    /// no shape is given): indices or class targets, exact beyond float32's 2²⁴.
    /// </summary>
    public static Tensor FromInt32(int[] values, params int[] shape) =>
        new(Backends.Backend.Default.FromIndices(values), DimsHolding("FromInt32", values.Length, shape));

    /// <summary>The shape <paramref name="count"/> given values fill: <paramref name="shape"/> (copied), or 1-D when none is given.</summary>
    static int[] DimsHolding(string op, int count, int[] shape)
    {
        int[] dims = shape.Length == 0 ? [count] : (int[])shape.Clone();
        if (Shapes.Numel(dims) != count)
            throw new ArgumentException($"{op}: {count} values cannot fill shape {Shapes.Format(dims)} ({Shapes.Numel(dims)} elements).");
        return dims;
    }

    /// <summary>Values start, start+step, ... below end (1-D), like torch.arange.</summary>
    public static Tensor Arange(float start, float end, float step = 1)
    {
        if (step == 0 || float.IsNaN(step)) throw new ArgumentException("Arange: step must be non-zero.");
        int count = Math.Max(0, (int)Math.Ceiling((end - start) / (double)step));
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = start + i * step;
        return FromArray(values, count);
    }

    /// <summary>0, 1, ..., <paramref name="end"/> − 1 as a rank-1 tensor.</summary>
    public static Tensor Arange(int end) => Arange(0, end);

    /// <summary>Uniform values in [0, 1) from <paramref name="random"/> (seed it for reproducible values).</summary>
    public static Tensor Rand(int[] shape, Random random)
    {
        var values = new float[Shapes.Numel(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle();
        return FromArray(values, shape);
    }

    /// <summary>Uniform values in [0, 1) from a generator seeded with <paramref name="seed"/>: the same values for the same seed.</summary>
    public static Tensor Rand(int[] shape, int seed) => Rand(shape, SeededRandom(seed));

    /// <summary>Standard normal values (Box–Muller) from <paramref name="random"/>.</summary>
    public static Tensor Randn(int[] shape, Random random)
    {
        var values = new float[Shapes.Numel(shape)];
        DrawNormal(values, random);
        return FromArray(values, shape);
    }

    /// <summary>Fills <paramref name="values"/> with standard normal values, a Box–Muller pair per two values.</summary>
    internal static void DrawNormal(Span<float> values, Random random)
    {
        for (int i = 0; i < values.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble(), u2 = random.NextDouble();
            double radius = Math.Sqrt(-2.0 * Math.Log(u1)), angle = 2.0 * Math.PI * u2;
            values[i] = (float)(radius * Math.Cos(angle));
            if (i + 1 < values.Length) values[i + 1] = (float)(radius * Math.Sin(angle));
        }
    }

    /// <summary>Standard normal values from a generator seeded with <paramref name="seed"/>: the same values for the same seed.</summary>
    public static Tensor Randn(int[] shape, int seed) => Randn(shape, SeededRandom(seed));

    /// <summary>
    /// A generator for <paramref name="seed"/>. The seed is scrambled first (a SplitMix-style finaliser):
    /// .NET's seeded Random gives visibly correlated streams for nearby seeds, which would make
    /// Rand(shape, 1) and Rand(shape, 2) look alike.
    /// </summary>
    internal static Random SeededRandom(int seed)
    {
        uint z = (uint)seed + 0x9E3779B9u;
        z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
        z = (z ^ (z >> 13)) * 0xC2B2AE35u;
        return new Random((int)((z ^ (z >> 16)) & int.MaxValue));
    }
}
