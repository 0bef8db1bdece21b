using ConvKit.NN;
using ConvKit.Ops;

namespace ConvKit.Tests.NN;

/// <summary>Each loss object applies its functional loss with the configuration it was built with.</summary>
public class LossModuleTests
{
    static readonly Tensor Logits = Tensor.Randn([6, 4], seed: 1);
    static readonly Tensor Classes = Tensor.FromArray([0, 3, 1, 3, 2, -100], 6);
    static readonly Tensor ClassWeight = Tensor.FromArray([0.5f, 1, 2, 1.5f], 4);
    static readonly Tensor Predictions = Tensor.Randn([3, 4], seed: 2);
    static readonly Tensor Targets = Tensor.Rand([3, 4], seed: 3);

    public static TheoryData<string> Names() => new() { "CrossEntropyLoss", "NllLoss", "BCEWithLogitsLoss", "MSELoss", "L1Loss", "SmoothL1Loss" };

    [Theory]
    [MemberData(nameof(Names))]
    public void AppliesItsFunctionalLoss(string name)
    {
        var posWeight = Tensor.FromArray([1, 2, 3, 4f], 4);
        var (loss, input, target, expected) = name switch
        {
            "CrossEntropyLoss" => ((Loss)new CrossEntropyLoss(ClassWeight, reduction: Reduction.Sum, labelSmoothing: 0.1f), Logits, Classes,
                F.CrossEntropy(Logits, Classes, ClassWeight, reduction: Reduction.Sum, labelSmoothing: 0.1f)),
            "NllLoss" => (new NllLoss(ClassWeight, ignoreIndex: 3), F.LogSoftmax(Logits), Classes.Maximum(0f),
                F.NllLoss(F.LogSoftmax(Logits), Classes.Maximum(0f), ClassWeight, ignoreIndex: 3)),
            "BCEWithLogitsLoss" => (new BCEWithLogitsLoss(posWeight: posWeight, reduction: Reduction.None), Predictions, Targets,
                F.BinaryCrossEntropyWithLogits(Predictions, Targets, posWeight: posWeight, reduction: Reduction.None)),
            "MSELoss" => (new MSELoss(), Predictions, Targets, F.MseLoss(Predictions, Targets)),
            "L1Loss" => (new L1Loss(Reduction.Sum), Predictions, Targets, F.L1Loss(Predictions, Targets, Reduction.Sum)),
            _ => (new SmoothL1Loss(beta: 0.3f), Predictions, Targets, F.SmoothL1Loss(Predictions, Targets, beta: 0.3f)),
        };
        Assert.Equal(expected.Shape, loss.Forward(input, target).Shape);
        Assert.Equal(expected.ToArray(), loss.Forward(input, target).ToArray());
    }

    [Fact]
    public void TripletMarginLossAppliesItsConfiguration()
    {
        var (a, p, n) = (Tensor.Randn([5, 3], seed: 4), Tensor.Randn([5, 3], seed: 5), Tensor.Randn([5, 3], seed: 6));
        var loss = new TripletMarginLoss(margin: 0.5f, p: 1, swap: true, reduction: Reduction.None);
        Assert.Equal(F.TripletMarginLoss(a, p, n, 0.5f, 1, swap: true, reduction: Reduction.None).ToArray(), loss.Forward(a, p, n).ToArray());
        Assert.Equal("TripletMarginLoss(margin=0.5, p=1, eps=1E-06, swap=true, reduction=None)", loss.ToString());
    }

    [Fact]
    public void CrossEntropyLossTrainsALinearClassifier()
    {
        // Three separable clusters; a few steps of gradient descent must drive the loss down.
        var x = Tensor.FromArray([2, 0, 2.2f, 0.1f, 0, 2, 0.1f, 2.1f, -2, -2, -2.1f, -1.9f], 6, 2);
        var y = Tensor.FromArray([0, 0, 1, 1, 2, 2], 6);
        var model = new Linear(2, 3, random: new Random(7));
        var criterion = new CrossEntropyLoss();
        float first = 0, last = 0;
        for (int step = 0; step < 50; step++)
        {
            var loss = criterion.Forward(model.Forward(x), y);
            if (step == 0) first = loss.Item();
            last = loss.Item();
            model.ZeroGrad();
            loss.Backward();
            using (Tensor.NoGrad())
                foreach (var parameter in model.Parameters()) parameter.AddInPlace(parameter.Grad!, -0.5f);
        }
        Assert.True(last < 0.1f * first, $"loss went from {first} to {last}");
    }

    [Fact]
    public void DescribesItself()
    {
        Assert.Equal("CrossEntropyLoss(reduction=Mean)", new CrossEntropyLoss().ToString());
        Assert.Equal("SmoothL1Loss(reduction=Sum, beta=0.5)", new SmoothL1Loss(Reduction.Sum, 0.5f).ToString());
    }

    [Fact]
    public void RejectsBadConfiguration()
    {
        Assert.Contains("labelSmoothing", Assert.Throws<ArgumentException>(() => new CrossEntropyLoss(labelSmoothing: 1.5f)).Message);
        Assert.Contains("[2, 2]", Assert.Throws<ArgumentException>(() => new NllLoss(Tensor.Ones(2, 2))).Message);
        Assert.Contains("beta", Assert.Throws<ArgumentException>(() => new SmoothL1Loss(beta: -1)).Message);
        Assert.Contains("TripletMarginLoss", Assert.Throws<ArgumentException>(() => new TripletMarginLoss(p: 0)).Message);
    }
}
