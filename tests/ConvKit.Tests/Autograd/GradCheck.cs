using ConvKit.Backends;

namespace ConvKit.Tests.Autograd;

/// <summary>
/// Finite-difference gradient check, run on every backend. The scalar probed is L = Σ w·f(inputs) with a fixed random w, summed in
/// float64 so the only float32 error is in f itself. Central differences with step h = 1e-2 on inputs of
/// order 1: the truncation error is O(h²·f''') ≈ 1e-5, and float32 rounding of each output
/// (~6e-8 relative) contributes about √N·6e-8/(2h) ≈ 1e-5 for the tensor sizes used here, so
/// |numeric − analytic| ≤ 2e-3 + 1e-2·|analytic| leaves a wide margin while still catching any wrong rule
/// (a wrong rule is off by O(1)). Inputs are chosen at least 0.05 away from kinks and ties.
/// </summary>
static class GradCheck
{
    const float Step = 1e-2f;
    const double Rtol = 1e-2, Atol = 2e-3;

    /// <summary>Checks <paramref name="f"/>'s gradients on every backend, each with its own copy of <paramref name="inputs"/>.</summary>
    public static void Check(Func<Tensor[], Tensor> f, params Tensor[] inputs)
    {
        foreach (var backend in TestBackends.All)
        {
            using var _ = Backend.Use(backend);
            var copies = inputs.Select(x => Tensor.FromArray(x.ToArray(), x.Shape.ToArray()) is var t && x.Rank == 0 ? t.Reshape() : t).ToArray();
            Check(backend.Name, f, copies);
        }
    }

    static void Check(string backend, Func<Tensor[], Tensor> f, Tensor[] inputs)
    {
        foreach (var x in inputs) x.RequiresGrad = true;
        var y = f(inputs);
        Assert.Equal(backend, y.Backend.Name);
        var weight = Tensor.Rand(y.Shape.ToArray(), seed: 99) * 2f - 1f;
        double[] w = weight.ToArray().Select(v => (double)v).ToArray();
        foreach (var x in inputs) x.ZeroGrad();
        (y * weight).Sum().Backward();

        for (int i = 0; i < inputs.Length; i++)
        {
            var x = inputs[i];
            var analytic = x.Grad?.ToArray() ?? new float[x.Numel];
            var values = x.ToArray();
            for (int j = 0; j < values.Length; j++)
            {
                float original = values[j];
                float up = original + Step, down = original - Step;
                double plus = Loss(f, inputs, i, values, j, up, w);
                double minus = Loss(f, inputs, i, values, j, down, w);
                values[j] = original;
                double numeric = (plus - minus) / ((double)up - down);
                double error = Math.Abs(numeric - analytic[j]);
                Assert.True(error <= Atol + Rtol * Math.Abs(numeric),
                    $"{backend}: input {i} element {j}: analytic {analytic[j]}, numeric {numeric:g6} (error {error:g3})");
            }
        }
    }

    static double Loss(Func<Tensor[], Tensor> f, Tensor[] inputs, int which, float[] values, int index, float value, double[] w)
    {
        values[index] = value;
        var perturbed = inputs.Select((x, k) => k == which ? Tensor.FromArray(values, x.Shape.ToArray()) : x.Detach()).ToArray();
        using var _ = Tensor.NoGrad();
        var output = f(perturbed).ToArray();
        double sum = 0;
        for (int k = 0; k < output.Length; k++) sum += w[k] * output[k];
        return sum;
    }
}
