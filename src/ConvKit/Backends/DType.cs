namespace ConvKit.Backends;

/// <summary>The element type of a storage and of the tensors on it.</summary>
public enum DType
{
    /// <summary>32-bit floating point: values, activations, parameters, gradients.</summary>
    Float32,
    /// <summary>
    /// 32-bit integers: indices and class targets (<c>F.ArgMax</c>'s output, <c>Tensor.FromInt32</c>), exact where float32
    /// stops at 2²⁴. Float ops read such a tensor as float32 values; only index-aware ops read the integers.
    /// </summary>
    Int32,
}
