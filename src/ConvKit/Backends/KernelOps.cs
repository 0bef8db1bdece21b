namespace ConvKit.Backends;

/// <summary>Element-wise functions of one value.</summary>
public enum UnaryOp { Neg, Exp, Log, Sqrt, Abs, Sign, Square }

/// <summary>Element-wise functions of two values; comparisons give 1 or 0.</summary>
public enum BinaryOp { Add, Sub, Mul, Div, Pow, Maximum, Minimum, Equal, NotEqual, Less, LessEqual, Greater, GreaterEqual }

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp { Sum, Max, Min }

/// <summary>
/// A batch of equal-length blocks copied between two buffers: for o &lt; <see cref="Outer"/>, c &lt; <see cref="Count"/>
/// the block of <see cref="BlockLength"/> values at src[SrcOffset + o·SrcOuterStride + c·SrcStride]
/// goes to dst[DstOffset + o·DstOuterStride + c·DstStride]. Slicing, narrowing and concatenation are all this.
/// </summary>
public readonly record struct BlockCopy(
    int Outer, int Count, int BlockLength,
    int SrcOffset, int SrcOuterStride, int SrcStride,
    int DstOffset, int DstOuterStride, int DstStride);
