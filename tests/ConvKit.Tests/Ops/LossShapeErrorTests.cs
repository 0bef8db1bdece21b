using ConvKit.Ops;

namespace ConvKit.Tests.Ops;

/// <summary>Bad inputs to softmax, linear and the losses fail at the op's boundary, naming the op and the shapes or values.</summary>
public class LossShapeErrorTests
{
    static void AssertNames<T>(Func<object> act, params string[] parts) where T : Exception
    {
        var error = Assert.ThrowsAny<T>(act);
        foreach (var part in parts) Assert.Contains(part, error.Message);
    }

    static readonly Tensor Logits = Tensor.Zeros(4, 5);

    [Fact]
    public void LinearInputMismatch() =>
        AssertNames<ArgumentException>(() => F.Linear(Tensor.Zeros(2, 4), Tensor.Zeros(3, 5)), "Linear", "[2, 4]", "[3, 5]");

    [Fact]
    public void LinearBiasMismatch() =>
        AssertNames<ArgumentException>(() => F.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(3, 5), Tensor.Zeros(4)), "Linear", "[4]", "[3, 5]");

    [Fact]
    public void LinearWeightNotAMatrix() =>
        AssertNames<ArgumentException>(() => F.Linear(Tensor.Zeros(2, 5), Tensor.Zeros(5)), "Linear", "[5]");

    [Fact]
    public void SoftmaxAxisOutOfRange() =>
        AssertNames<ArgumentException>(() => F.Softmax(Tensor.Zeros(2, 3), 2), "Softmax", "2");

    [Theory]
    [InlineData(7f, "7")]
    [InlineData(-1f, "-1")]
    [InlineData(1.5f, "1.5")]
    public void CrossEntropyBadClassIndex(float bad, string shown) =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Logits, Tensor.FromArray([0, 4, bad, 1], 4)),
            "CrossEntropy", $"target {shown}", "position 2", "5 classes");

    [Fact]
    public void NllLossBadClassIndexInSpatialTargets() =>
        AssertNames<ArgumentException>(() => F.NllLoss(Tensor.Zeros(1, 3, 2, 2), Tensor.FromArray([0, 1, 2, 3], 1, 2, 2)),
            "NllLoss", "target 3", "3 classes");

    [Fact]
    public void CrossEntropyTargetShapeMismatch() =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Logits, Tensor.Zeros(3)), "CrossEntropy", "[3]", "[4, 5]");

    [Fact]
    public void CrossEntropySpatialTargetShapeMismatch() =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Tensor.Zeros(2, 3, 4, 4), Tensor.Zeros(2, 4, 3)), "CrossEntropy", "[2, 4, 3]", "[2, 3, 4, 4]", "[2, 4, 4]");

    [Fact]
    public void CrossEntropyProbabilityTargetShapeMismatch() =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Logits, Tensor.Zeros(4, 1)), "CrossEntropy", "[4, 1]", "[4, 5]", "[4]");

    [Fact]
    public void CrossEntropyWeightMismatch() =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Logits, Tensor.Zeros(4), Tensor.Ones(3)), "CrossEntropy", "[3]", "[4, 5]");

    [Fact]
    public void CrossEntropySmoothingOutOfRange() =>
        AssertNames<ArgumentException>(() => F.CrossEntropy(Logits, Tensor.Zeros(4), labelSmoothing: -0.1f), "CrossEntropy", "-0.1");

    public static TheoryData<string> TargetShapeOps() => new() { "MseLoss", "L1Loss", "SmoothL1Loss", "BinaryCrossEntropyWithLogits" };

    [Theory]
    [MemberData(nameof(TargetShapeOps))]
    public void RegressionTargetShapeMismatch(string op)
    {
        var (input, target) = (Tensor.Zeros(2, 3), Tensor.Zeros(3, 2));
        Func<object> act = op switch
        {
            "MseLoss" => () => F.MseLoss(input, target),
            "L1Loss" => () => F.L1Loss(input, target),
            "SmoothL1Loss" => () => F.SmoothL1Loss(input, target),
            _ => () => F.BinaryCrossEntropyWithLogits(input, target),
        };
        AssertNames<ArgumentException>(act, op + ":", "[2, 3]", "[3, 2]");
    }

    [Fact]
    public void BinaryCrossEntropyPosWeightMismatch() =>
        AssertNames<ArgumentException>(() => F.BinaryCrossEntropyWithLogits(Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), posWeight: Tensor.Ones(2)),
            "BinaryCrossEntropyWithLogits", "posWeight", "[2]", "[2, 3]");

    [Fact]
    public void TripletShapeMismatch() =>
        AssertNames<ArgumentException>(() => F.TripletMarginLoss(Tensor.Zeros(4, 8), Tensor.Zeros(4, 8), Tensor.Zeros(4, 7)),
            "TripletMarginLoss", "[4, 8]", "[4, 7]", "negative");
}
