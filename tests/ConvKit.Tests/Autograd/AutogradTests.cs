namespace ConvKit.Tests.Autograd;

public class AutogradTests
{
    [Fact]
    public void GradientsAccumulateAcrossBackwardCallsUntilZeroGrad()
    {
        var x = Tensor.FromArray([1f, 2f, 3f]).RequireGrad();
        (x * x).Sum().Backward();
        Assert.Equal([2f, 4f, 6f], x.Grad!.ToArray());
        (x * x).Sum().Backward();
        Assert.Equal([4f, 8f, 12f], x.Grad!.ToArray());
        x.ZeroGrad();
        Assert.Null(x.Grad);
        (x * 3f).Sum().Backward();
        Assert.Equal([3f, 3f, 3f], x.Grad!.ToArray());
    }

    [Fact]
    public void BackwardWithExplicitGradientForNonScalar()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var y = x * x;
        y.Backward(Tensor.FromArray([10f, 100f]));
        Assert.Equal([20f, 400f], x.Grad!.ToArray());
    }

    [Fact]
    public void BackwardOnNonScalarWithoutGradientExplains()
    {
        var y = Tensor.Ones(2, 3).RequireGrad() * 2f;
        var error = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("scalar", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void BackwardWithWrongGradientShapeNamesBoth()
    {
        var y = Tensor.Ones(2, 3).RequireGrad() * 2f;
        var error = Assert.Throws<ArgumentException>(() => y.Backward(Tensor.Ones(3, 2)));
        Assert.Contains("[3, 2]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void BackwardWithoutAnyGradientInputExplains() =>
        Assert.Throws<InvalidOperationException>(() => (Tensor.Ones(2) * 2f).Sum().Backward());

    [Fact]
    public void NoGradRecordsNothingAndRestoresOnDispose()
    {
        var x = Tensor.Ones(3).RequireGrad();
        using (Tensor.NoGrad())
        {
            var y = x * 2f;
            Assert.False(y.RequiresGrad);
            Assert.Null(y.GradFn);
            using (Tensor.NoGrad()) { }
            Assert.False((x * 2f).RequiresGrad);
        }
        var z = x * 2f;
        Assert.True(z.RequiresGrad);
        Assert.Equal("Mul", z.GradFn!.Op);
    }

    [Fact]
    public void DetachCutsTheGraphButSharesValues()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var d = (x * 3f).Detach();
        Assert.False(d.RequiresGrad);
        var y = (x * d).Sum();
        y.Backward();
        Assert.Equal([3f, 6f], x.Grad!.ToArray());
    }

    [Fact]
    public void OnlyLeavesKeepGradients()
    {
        var x = Tensor.FromArray([1f, 2f]).RequireGrad();
        var hidden = x * 2f;
        (hidden * hidden).Sum().Backward();
        Assert.Null(hidden.Grad);
        Assert.Equal([8f, 16f], x.Grad!.ToArray());
        Assert.Throws<InvalidOperationException>(() => hidden.RequiresGrad = false);
    }

    [Fact]
    public void InputsWithoutRequiresGradGetNoGradient()
    {
        var x = Tensor.Ones(2).RequireGrad();
        var c = Tensor.Ones(2);
        (x * c).Sum().Backward();
        Assert.Null(c.Grad);
        Assert.NotNull(x.Grad);
    }

    [Fact]
    public void LongChainsDoNotOverflowTheStack()
    {
        var x = Tensor.FromArray([1f]).RequireGrad();
        var y = x;
        for (int i = 0; i < 100_000; i++) y = y + 1f;
        y.Backward();
        Assert.Equal(1f, x.Grad!.Item());
    }

    [Fact]
    public void DiamondGraphSumsBothPaths()
    {
        var x = Tensor.Scalar(3f).RequireGrad();
        var a = x * x;        // 2x
        var b = x.Exp();      // eˣ
        (a * b).Backward();   // d(x²eˣ) = (2x + x²)eˣ
        Assert.Equal((6 + 9) * MathF.Exp(3), x.Grad!.Item(), 1e-2);
    }

    [Fact]
    public void LeavesNeverShareGradientStorage()
    {
        // Add hands the same upstream gradient to both inputs; each leaf must still own its Grad.
        var x = Tensor.Ones(3).RequireGrad();
        var y = Tensor.Ones(3).RequireGrad();
        var upstream = Tensor.FromArray([1f, 2f, 3f]);
        (x + y).Reshape(3, 1).Backward(upstream.Reshape(3, 1));
        x.Grad!.AddInPlace(Tensor.Ones(3));
        Assert.Equal([2f, 3f, 4f], x.Grad.ToArray());
        Assert.Equal([1f, 2f, 3f], y.Grad!.ToArray());
        Assert.Equal([1f, 2f, 3f], upstream.ToArray());
    }
}
