namespace ConvKit.Onnx;

/// <summary>
/// A value flowing along an edge of an imported graph: a float32 <see cref="Tensor"/> (in the autograd graph, so
/// gradients reach the initialisers), or an integer tensor held as <c>long</c> values with its shape. Integers carry
/// the shape computations exporters emit (Shape → Gather → Concat → Reshape, int64 constants); ConvKit tensors are
/// float32 only, and float32 cannot hold every int64 (or even every int above 2²⁴). Integers never need gradients.
/// </summary>
sealed class OnnxValue
{
    OnnxValue(Tensor? floats, long[]? ints, int[] shape)
    {
        Float = floats;
        Ints = ints;
        Shape = shape;
    }

    /// <summary>The float tensor, or null for an integer value.</summary>
    public Tensor? Float { get; }

    /// <summary>The integer values, row-major, or null for a float value.</summary>
    public long[]? Ints { get; }

    /// <summary>The sizes of the axes.</summary>
    public int[] Shape { get; }

    public bool IsInt => Ints != null;

    public int Rank => Shape.Length;

    public static OnnxValue Of(Tensor tensor) => new(tensor, null, [.. tensor.Shape]);

    public static OnnxValue OfInts(long[] values, params int[] shape)
    {
        long count = 1;
        foreach (int size in shape) count *= size;
        if (count != values.Length)
            throw new ArgumentException($"OnnxValue: {values.Length} integers cannot fill shape [{string.Join(", ", shape)}].");
        return new(null, values, shape);
    }

    /// <summary>A rank-0 integer.</summary>
    public static OnnxValue Scalar(long value) => new(null, [value], []);

    public override string ToString() => $"{(IsInt ? "int64" : "float")}[{string.Join(", ", Shape)}]";
}
