using ConvKit.NN;

namespace ConvKit.Tests.NN;

/// <summary>
/// torch.nn.init's rules: fans and gains against PyTorch's own values (gen_loss.py), and the distributions of a
/// large filled tensor against the Kaiming and Xavier formulas.
/// </summary>
public class InitTests
{
    static readonly System.Text.Json.JsonElement Reference = Fixtures.Load("loss.json").GetProperty("init");

    [Fact]
    public void FansMatchPyTorch()
    {
        foreach (var fan in Reference.GetProperty("fans").EnumerateArray())
        {
            var shape = Fixtures.Ints(fan.GetProperty("shape"));
            var (fanIn, fanOut) = Init.FanInAndFanOut(Tensor.Zeros(shape));
            Assert.Equal(fan.GetProperty("fanIn").GetInt32(), fanIn);
            Assert.Equal(fan.GetProperty("fanOut").GetInt32(), fanOut);
        }
    }

    [Fact]
    public void GainsMatchPyTorch()
    {
        foreach (var gain in Reference.GetProperty("gains").EnumerateArray())
        {
            var name = gain.GetProperty("nonlinearity").GetString()!;
            var nonlinearity = Enum.Parse<Nonlinearity>(name.Replace("_", ""), ignoreCase: true);
            var param = gain.GetProperty("param");
            float? slope = param.ValueKind == System.Text.Json.JsonValueKind.Null ? null : (float)param.GetDouble();
            Assert.Equal(gain.GetProperty("gain").GetDouble(), Init.CalculateGain(nonlinearity, slope), 1e-6);
        }
    }

    [Fact]
    public void FansNeedTwoDimensions()
    {
        var error = Assert.Throws<ArgumentException>(() => Init.FanInAndFanOut(Tensor.Zeros(5)));
        Assert.Contains("[5]", error.Message);
    }

    // 256·512 = 131072 draws: the sample std is within 0.5% of the true one with overwhelming probability.
    const double StdTolerance = 0.02;

    [Fact]
    public void KaimingUniformFollowsTheFanInFormula()
    {
        var weight = Init.KaimingUniform(Tensor.Zeros(256, 512), random: new Random(1));
        double bound = Math.Sqrt(2.0) * Math.Sqrt(3.0 / 512);
        AssertUniform(weight, bound);
    }

    [Fact]
    public void KaimingUniformFanOutOfAConvolutionWeight()
    {
        // Conv weight (out 64, in 32, 3, 3): fan_out = 64·9; ReLU gain √2.
        var weight = Init.KaimingUniform(Tensor.Zeros(64, 32, 3, 3), mode: FanMode.FanOut, nonlinearity: Nonlinearity.Relu, random: new Random(2));
        AssertUniform(weight, Math.Sqrt(2.0) * Math.Sqrt(3.0 / (64 * 9)));
    }

    [Fact]
    public void KaimingUniformWithSqrt5IsPyTorchsLayerDefault()
    {
        var weight = Init.KaimingUniform(Tensor.Zeros(300, 400), a: MathF.Sqrt(5), random: new Random(3));
        AssertUniform(weight, 1 / Math.Sqrt(400));
    }

    [Fact]
    public void KaimingNormalFollowsTheFormula()
    {
        var weight = Init.KaimingNormal(Tensor.Zeros(256, 128, 2, 2), a: 0.2f, random: new Random(4));
        double std = Math.Sqrt(2.0 / (1 + 0.2 * 0.2)) / Math.Sqrt(128 * 4);
        AssertNormal(weight, std);
    }

    [Fact]
    public void XavierUniformFollowsTheFormula()
    {
        var weight = Init.XavierUniform(Tensor.Zeros(200, 600), gain: 5f / 3f, random: new Random(5));
        AssertUniform(weight, 5.0 / 3.0 * Math.Sqrt(6.0 / (600 + 200)));
    }

    [Fact]
    public void XavierNormalFollowsTheFormula()
    {
        var weight = Init.XavierNormal(Tensor.Zeros(128, 64, 3, 3), random: new Random(6));
        AssertNormal(weight, Math.Sqrt(2.0 / (64 * 9 + 128 * 9)));
    }

    [Fact]
    public void SkipLeavesTensorsAsAllocatedAndDrawsNothingUntilDisposed()
    {
        var weight = Tensor.Zeros(64, 100);
        var random = new Random(5);
        using (Init.Skip())
        {
            Init.KaimingUniform(weight, random: random);
            Init.Normal(weight, 1f, 2f, random);
        }
        Assert.All(weight.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(new Random(5).Next(), random.Next()); // the generator was not advanced
        Init.Uniform(weight, 1f, 2f);
        Assert.All(weight.ToArray(), v => Assert.InRange(v, 1f, 2f));
    }

    [Fact]
    public void UniformNormalAndConstantFillInPlace()
    {
        var parameter = Tensor.Zeros(100, 1000).RequireGrad();
        Assert.Same(parameter, Init.Uniform(parameter, -0.5f, 2f, new Random(7)));
        var values = parameter.ToArray();
        Assert.InRange(values.Min(), -0.5f, -0.49f);
        Assert.InRange(values.Max(), 1.99f, 2f);
        Assert.Equal(0.75, values.Average(), 0.01);
        Assert.True(parameter.IsLeaf && parameter.RequiresGrad);

        Init.Normal(parameter, 3f, 0.5f, new Random(8));
        values = parameter.ToArray();
        Assert.Equal(3.0, values.Average(), 0.01);
        Assert.Equal(0.5, Std(values), 0.5 * StdTolerance);

        Assert.All(Init.Constant(parameter, 0.25f).ToArray(), v => Assert.Equal(0.25f, v));
        Assert.All(Init.Ones(parameter).ToArray(), v => Assert.Equal(1f, v));
        Assert.All(Init.Zeros(parameter).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void FillingInPlaceDrawsWhatWholeTensorDrawsWould()
    {
        // Longer than the initialisers' 65,536-value chunk and odd: the last Box–Muller pair is half used. Seeded
        // weights (fixtures, checkpoints' seeds) stay what they were when the values went through Rand and Randn.
        int[] shape = [3, 65537];
        var uniform = Init.Uniform(Tensor.Zeros(shape), -0.5f, 2f, new Random(21)).ToArray();
        Assert.Equal((Tensor.Rand(shape, new Random(21)) * 2.5f + -0.5f).ToArray(), uniform);
        var normal = Init.Normal(Tensor.Zeros(shape), 3f, 0.5f, new Random(22)).ToArray();
        Assert.Equal((Tensor.Randn(shape, new Random(22)) * 0.5f + 3f).ToArray(), normal);
    }

    [Fact]
    public void SeedsMakeValuesReproducible()
    {
        float[] Draw(int seed) => Init.KaimingNormal(Tensor.Zeros(8, 8), random: new Random(seed)).ToArray();
        Assert.Equal(Draw(11), Draw(11));
        Assert.NotEqual(Draw(11), Draw(12));
    }

    [Fact]
    public void LayerDefaultBoundsWeightAndBiasByTheFanIn()
    {
        var weight = Tensor.Zeros(16, 8, 3, 3);
        var bias = Tensor.Zeros(16);
        Init.LayerDefault(weight, bias, new Random(9));
        double bound = 1 / Math.Sqrt(8 * 9);
        Assert.All(weight.ToArray(), v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.All(bias.ToArray(), v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.Contains(bias.ToArray(), v => v != 0);
    }

    static void AssertUniform(Tensor tensor, double bound)
    {
        var values = tensor.ToArray();
        double largest = values.Max(v => Math.Abs(v));
        Assert.InRange(largest, 0.99 * bound, bound);
        Assert.Equal(bound / Math.Sqrt(3), Std(values), bound / Math.Sqrt(3) * StdTolerance);
        Assert.Equal(0, values.Average(), bound * 0.02);
    }

    static void AssertNormal(Tensor tensor, double std)
    {
        var values = tensor.ToArray();
        Assert.Equal(std, Std(values), std * StdTolerance);
        Assert.Equal(0, values.Average(), std * 0.02);
        // About 0.27% of normal draws lie beyond 3σ.
        Assert.InRange(values.Count(v => Math.Abs(v) > 3 * std) / (double)values.Length, 0.001, 0.005);
    }

    static double Std(float[] values)
    {
        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Length);
    }
}
