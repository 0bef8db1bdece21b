namespace ConvKit.Backends;

/// <summary>Element-wise functions of one value.</summary>
public enum UnaryOp
{
    /// <summary>−x</summary>
    Neg,
    /// <summary>eˣ</summary>
    Exp,
    /// <summary>ln x</summary>
    Log,
    /// <summary>√x</summary>
    Sqrt,
    /// <summary>|x|</summary>
    Abs,
    /// <summary>−1, 0 or 1</summary>
    Sign,
    /// <summary>x²</summary>
    Square,
    /// <summary>the error function erf x = 2/√π ∫₀ˣ e^−t² dt</summary>
    Erf,
}

/// <summary>Element-wise functions of two values; comparisons give 1 or 0.</summary>
public enum BinaryOp
{
    /// <summary>a + b</summary>
    Add,
    /// <summary>a − b</summary>
    Sub,
    /// <summary>a · b</summary>
    Mul,
    /// <summary>a / b</summary>
    Div,
    /// <summary>aᵇ</summary>
    Pow,
    /// <summary>max(a, b)</summary>
    Maximum,
    /// <summary>min(a, b)</summary>
    Minimum,
    /// <summary>a = b</summary>
    Equal,
    /// <summary>a ≠ b</summary>
    NotEqual,
    /// <summary>a &lt; b</summary>
    Less,
    /// <summary>a ≤ b</summary>
    LessEqual,
    /// <summary>a &gt; b</summary>
    Greater,
    /// <summary>a ≥ b</summary>
    GreaterEqual,
}

/// <summary>Reductions along one axis.</summary>
public enum ReduceOp
{
    /// <summary>The sum.</summary>
    Sum,
    /// <summary>The largest value.</summary>
    Max,
    /// <summary>The smallest value.</summary>
    Min,
}

/// <summary>
/// A batch of equal-length blocks copied between two buffers: for o &lt; <see cref="Outer"/>, c &lt; <see cref="Count"/>
/// the block of <see cref="BlockLength"/> values at src[SrcOffset + o·SrcOuterStride + c·SrcStride]
/// goes to dst[DstOffset + o·DstOuterStride + c·DstStride]. Slicing, narrowing and concatenation are all this.
/// </summary>
public readonly record struct BlockCopy(
    int Outer, int Count, int BlockLength,
    int SrcOffset, int SrcOuterStride, int SrcStride,
    int DstOffset, int DstOuterStride, int DstStride);
