using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>Bad shapes fail at the op's boundary with a message naming the op and both shapes.</summary>
public class ShapeErrorTests
{
    static void AssertNames<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    public static TheoryData<string> BinaryOps() => new() { "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Eq", "Ne", "Lt", "Le", "Gt", "Ge" };

    [Theory]
    [MemberData(nameof(BinaryOps))]
    public void BroadcastMismatchNamesOpAndShapes(string op)
    {
        var a = Tensor.Zeros(2, 3);
        var b = Tensor.Zeros(4, 2);
        Func<Tensor, Tensor, Tensor> f = op switch
        {
            "Add" => F.Add, "Sub" => F.Sub, "Mul" => F.Mul, "Div" => F.Div, "Pow" => F.Pow,
            "Maximum" => F.Maximum, "Minimum" => F.Minimum, "Eq" => F.Eq, "Ne" => F.Ne,
            "Lt" => F.Lt, "Le" => F.Le, "Gt" => F.Gt, _ => F.Ge,
        };
        AssertNames<ArgumentException>(() => f(a, b), op + ":", "[2, 3]", "[4, 2]");
    }

    [Fact]
    public void MatMulInnerMismatch() =>
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).MatMul(Tensor.Zeros(4, 5)), "MatMul", "[2, 3]", "[4, 5]");

    [Fact]
    public void MatMulBatchMismatch() =>
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3, 4).MatMul(Tensor.Zeros(3, 4, 5)), "MatMul", "[2]", "[3]");

    [Fact]
    public void ReshapeToWrongCount() =>
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).Reshape(4, 2), "Reshape", "[2, 3]", "[4, 2]");

    [Fact]
    public void ExpandToIncompatibleShape() =>
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).Expand(2, 4), "Expand", "[2, 3]", "[2, 4]");

    [Fact]
    public void ConcatMismatch() =>
        AssertNames<ArgumentException>(() => Tensor.Concat([Tensor.Zeros(2, 3), Tensor.Zeros(3, 3)], 1), "Concat", "[2, 3]", "[3, 3]");

    [Fact]
    public void StackMismatch() =>
        AssertNames<ArgumentException>(() => Tensor.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(2, 4)]), "Stack", "[2, 3]", "[2, 4]");

    [Fact]
    public void AxisOutOfRange()
    {
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).Sum(2), "Sum", "axis 2");
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).Permute(0, 0), "Permute");
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 3).Narrow(1, 2, 2), "Narrow", "[2, 3]");
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, 0).Max(1), "Max", "empty");
    }

    [Fact]
    public void FromArrayCountMismatch() =>
        AssertNames<ArgumentException>(() => Tensor.FromArray([1f, 2f, 3f], 2, 2), "FromArray", "[2, 2]");

    [Fact]
    public void NegativeSize() =>
        AssertNames<ArgumentException>(() => Tensor.Zeros(2, -1), "negative");
}
