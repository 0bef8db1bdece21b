namespace ConvKit.Tests.Autograd;

/// <summary>Every differentiable op's backward rule against finite differences (see <see cref="GradCheck"/>).</summary>
public class GradientCheckTests
{
    static Tensor Uniform(int seed, float low, float high, params int[] shape) => Tensor.Rand(shape, seed) * (high - low) + low;

    /// <summary>Magnitudes in [0.5, 2) with random signs: safe for division, abs and log of |x|.</summary>
    static Tensor AwayFromZero(int seed, params int[] shape) =>
        Uniform(seed, 0.5f, 2f, shape) * (Tensor.Rand(shape, seed + 1).Gt(0.5f) * 2f - 1f);

    /// <summary>Distinct values at least 0.1 apart, shuffled: no ties within a finite-difference step.</summary>
    static Tensor Spaced(int seed, params int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = Enumerable.Range(0, n).Select(i => i * 0.1f - n * 0.05f).ToArray();
        new Random(seed).Shuffle(values);
        return Tensor.FromArray(values, shape);
    }

    [Fact] public void Add() => GradCheck.Check(x => x[0] + x[1], Uniform(1, -1, 1, 2, 3, 4), Uniform(2, -1, 1, 3, 1));
    [Fact] public void Sub() => GradCheck.Check(x => x[0] - x[1], Uniform(1, -1, 1, 4, 1), Uniform(2, -1, 1, 2, 1, 3));
    [Fact] public void Mul() => GradCheck.Check(x => x[0] * x[1], Uniform(1, -1, 1, 2, 3), Uniform(2, -1, 1, 3));
    [Fact] public void Div() => GradCheck.Check(x => x[0] / x[1], Uniform(1, -1, 1, 2, 3), AwayFromZero(2, 2, 1));
    [Fact] public void PowTensor() => GradCheck.Check(x => x[0].Pow(x[1]), Uniform(1, 0.5f, 2, 3, 2), Uniform(2, -1.5f, 1.5f, 2));
    [Fact] public void PowScalar() => GradCheck.Check(x => x[0].Pow(2.5f), Uniform(1, 0.3f, 2, 2, 3));
    [Fact] public void Square() => GradCheck.Check(x => x[0].Square(), Uniform(1, -2, 2, 5));
    [Fact] public void Neg() => GradCheck.Check(x => -x[0], Uniform(1, -2, 2, 5));
    [Fact] public void Exp() => GradCheck.Check(x => x[0].Exp(), Uniform(1, -2, 2, 2, 3));
    [Fact] public void Log() => GradCheck.Check(x => x[0].Log(), Uniform(1, 0.3f, 3, 2, 3));
    [Fact] public void Sqrt() => GradCheck.Check(x => x[0].Sqrt(), Uniform(1, 0.3f, 3, 2, 3));
    [Fact] public void Abs() => GradCheck.Check(x => x[0].Abs(), AwayFromZero(1, 2, 4));
    [Fact] public void Clamp() => GradCheck.Check(x => x[0].Clamp(-0.25f, 0.35f), Spaced(1, 3, 4));

    [Fact]
    public void MaximumAndMinimum()
    {
        var a = Spaced(1, 3, 4);
        var b = a + AwayFromZero(3, 3, 4) * 0.2f;
        GradCheck.Check(x => x[0].Maximum(x[1]), a, b);
        GradCheck.Check(x => x[0].Minimum(x[1]), a.Detach(), b.Detach());
    }

    [Fact] public void SumOverAxes() => GradCheck.Check(x => x[0].Sum([0, 2]), Uniform(1, -1, 1, 2, 3, 4));
    [Fact] public void SumAll() => GradCheck.Check(x => x[0].Sum(), Uniform(1, -1, 1, 2, 3));
    [Fact] public void MeanKeepDim() => GradCheck.Check(x => x[0].Mean(1, keepDim: true), Uniform(1, -1, 1, 2, 3, 4));
    [Fact] public void MaxOverAxis() => GradCheck.Check(x => x[0].Max(1), Spaced(1, 3, 5));
    [Fact] public void MinOverAxes() => GradCheck.Check(x => x[0].Min([0, 2]), Spaced(2, 2, 3, 4));
    [Fact] public void Var() => GradCheck.Check(x => x[0].Var(-1), Uniform(1, -1, 1, 3, 5));
    [Fact] public void VarAll() => GradCheck.Check(x => x[0].Var(correction: 0), Uniform(1, -1, 1, 2, 3));

    [Fact] public void MatMul2D() => GradCheck.Check(x => x[0].MatMul(x[1]), Uniform(1, -1, 1, 3, 4), Uniform(2, -1, 1, 4, 5));
    [Fact] public void MatMulBatchedBroadcast() => GradCheck.Check(x => x[0].MatMul(x[1]), Uniform(1, -1, 1, 2, 1, 3, 4), Uniform(2, -1, 1, 3, 4, 2));
    [Fact] public void MatMulVectors() => GradCheck.Check(x => x[0].MatMul(x[1]).MatMul(x[0]), Uniform(1, -1, 1, 4), Uniform(2, -1, 1, 4, 4));

    [Fact] public void Reshape() => GradCheck.Check(x => x[0].Reshape(4, -1) * x[1], Uniform(1, -1, 1, 2, 3, 2), Uniform(2, -1, 1, 3));
    [Fact] public void FlattenSqueezeUnsqueeze() => GradCheck.Check(x => x[0].Flatten(1).Unsqueeze(0).Squeeze(0).Square(), Uniform(1, -1, 1, 2, 3, 2));
    [Fact] public void Expand() => GradCheck.Check(x => x[0].Expand(2, 3, 4).Square(), Uniform(1, -1, 1, 3, 1));
    [Fact] public void Permute() => GradCheck.Check(x => x[0].Permute(2, 0, 1) * x[1], Uniform(1, -1, 1, 2, 3, 4), Uniform(2, -1, 1, 4, 2, 3));
    [Fact] public void Transpose() => GradCheck.Check(x => x[0].Transpose(0, 1).MatMul(x[0]), Uniform(1, -1, 1, 3, 2));
    [Fact] public void Slice() => GradCheck.Check(x => x[0].Slice(1, 1, 6, 2).Square(), Uniform(1, -1, 1, 2, 7, 2));
    [Fact] public void Narrow() => GradCheck.Check(x => x[0].Narrow(0, 1, 2).Exp(), Uniform(1, -1, 1, 4, 3));
    [Fact] public void Concat() => GradCheck.Check(x => Tensor.Concat([x[0], x[1], x[0]], 1).Square(), Uniform(1, -1, 1, 2, 3), Uniform(2, -1, 1, 2, 1));
    [Fact] public void Stack() => GradCheck.Check(x => Tensor.Stack([x[0], x[1]], 2).Square(), Uniform(1, -1, 1, 2, 3), Uniform(2, -1, 1, 2, 3));
    [Fact] public void Clone() => GradCheck.Check(x => x[0].Clone() * x[0], Uniform(1, -1, 1, 5));

    [Fact]
    public void CompositeUsesOfOneTensorAccumulate() =>
        GradCheck.Check(x => ((x[0] * x[1]).Exp() + x[0].Square() / (x[1].Abs() + 1f)).Sum(0), Uniform(1, -1, 1, 3, 4), AwayFromZero(2, 4));
}
