namespace ConvKit.Tests;

/// <summary>The README's API example, kept here verbatim so it cannot rot.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void LinearRegressionExampleLearnsTheSum()
    {
        // --- README example start ---
        var x = Tensor.Randn([64, 3], seed: 0);                 // (N, features)
        var w = (Tensor.Randn([3, 1], seed: 1) * 0.1f).RequireGrad();
        var b = Tensor.Zeros(1).RequireGrad();
        var target = x.Sum(1, keepDim: true);                   // learn y = x₀ + x₁ + x₂

        for (int step = 0; step < 200; step++)
        {
            var loss = (x.MatMul(w) + b - target).Square().Mean();   // broadcasting, reductions, autograd
            w.ZeroGrad(); b.ZeroGrad();
            loss.Backward();
            using (Tensor.NoGrad())                              // updates are not recorded
            {
                w.AddInPlace(w.Grad!, alpha: -0.1f);
                b.AddInPlace(b.Grad!, alpha: -0.1f);
            }
        }
        Console.WriteLine(w);
        // --- README example end ---
        Assert.All(w.ToArray(), v => Assert.Equal(1f, v, 1e-3f));
        Assert.Equal(0f, b.Item(), 1e-3f);
    }
}
