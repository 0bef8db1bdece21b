namespace ConvKit.Onnx;

/// <summary>One axis of a declared input or output shape: a fixed size, a symbolic name such as "batch", or unknown.</summary>
public readonly record struct OnnxDim(long? Value, string? Symbol)
{
    /// <inheritdoc/>
    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}

/// <summary>A graph input or output as the model declares it: name, element type (e.g. "float") and shape (null when undeclared).</summary>
public sealed record OnnxValueInfo(string Name, string ElementType, IReadOnlyList<OnnxDim>? Shape)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {ElementType}[{(Shape == null ? "?" : string.Join(", ", Shape))}]";
}
