using ConvKit.Backends;
using ConvKit.Backends.Reference;
using ConvKit.Ops;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Int32 tensors (<see cref="DType.Int32"/>): indices and class targets held exactly beyond float32's 2²⁴, on every
/// backend. <c>F.ArgMax</c> writes them, the class-index losses read them, float ops read them as float32, and they are
/// never written in place nor differentiated.
/// </summary>
public class Int32TensorTests
{
    const int BeyondFloat = (1 << 24) + 1; // 16777217, the first integer float32 cannot hold

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void Int32TensorsHoldTheirValuesExactly(string backend)
    {
        using var scope = TestBackends.Use(backend);
        var t = Tensor.FromInt32([BeyondFloat, -3, int.MaxValue, 0], 2, 2);
        Assert.Equal(DType.Int32, t.DType);
        Assert.Equal([BeyondFloat, -3, int.MaxValue, 0], t.ToInt32Array());
        Assert.Equal(DType.Int32, t.Reshape(4).DType);
        Assert.Equal(DType.Int32, t.Detach().DType);
        foreach (var other in TestBackends.All)
        {
            var moved = t.To(other);
            Assert.Same(other, moved.Backend);
            Assert.Equal([BeyondFloat, -3, int.MaxValue, 0], moved.ToInt32Array());
        }
        Assert.Contains("16777217", t.ToString());
        Assert.Contains("dtype=int32", t.ToString());

        // Float ops read the indices as float32, as a number promotes.
        var sum = t + 0.5f;
        Assert.Equal(DType.Float32, sum.DType);
        Assert.Equal([16777216.5f, -2.5f, 2147483648f, 0.5f], sum.ToArray());
        Assert.Equal(DType.Float32, t.ToFloat().DType);
    }

    [Fact]
    public void Int32TensorsAreNeverWrittenInPlaceNorDifferentiated()
    {
        var t = Tensor.FromInt32([1, 2]);
        Assert.Contains("AddInPlace", Assert.Throws<InvalidOperationException>(() => t.AddInPlace(Tensor.Ones(2))).Message);
        Assert.Contains("CopyFrom", Assert.Throws<InvalidOperationException>(() => t.CopyFrom(Tensor.Ones(2))).Message);
        Assert.Contains("RequiresGrad", Assert.Throws<InvalidOperationException>(() => t.RequireGrad()).Message);
        Assert.Contains("indexer", Assert.Throws<InvalidOperationException>(() => t[0] = 3).Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ArgMaxIsExactBeyondFloatPrecision(string backend)
    {
        using var scope = TestBackends.Use(backend);
        var x = Tensor.Zeros(BeyondFloat + 2);
        x[BeyondFloat] = 1;
        var index = x.ArgMax();
        Assert.Equal(DType.Int32, index.DType);
        Assert.Equal([BeyondFloat], index.ToInt32Array()); // as a float it would be 16777216

        var small = Tensor.FromArray([0f, 5f, 1f, 7f, 2f, 2f], 2, 3);
        Assert.Equal([1, 0], small.ArgMax(1).ToInt32Array());
        // Compared with float labels, as an accuracy metric does: the indices read as float32.
        var hits = small.ArgMax(1).Eq(Tensor.FromArray([1f, 1f]));
        Assert.Equal(DType.Float32, hits.DType);
        Assert.Equal([1f, 0f], hits.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void SortAndTopKGiveInt32Indices(string backend)
    {
        using var scope = TestBackends.Use(backend);
        var x = Tensor.FromArray([3f, 1f, 2f, 1f, 9f, 0f], 2, 3).RequireGrad();
        var (values, indices) = x.Sort(1);
        Assert.Equal(DType.Int32, indices.DType);
        Assert.Equal([1, 2, 0, 2, 0, 1], indices.ToInt32Array());
        var (top, at) = x.TopK(2, 1);
        Assert.Equal(DType.Int32, at.DType); // the slice of an Int32 tensor stays Int32
        Assert.Equal([0, 2, 1, 0], at.ToInt32Array());
        Assert.Equal([3f, 2f, 9f, 1f], top.ToArray());
        Assert.Equal(values.ToArray(), x.Gather(1, indices).ToArray()); // gathering at the order gives the sorted values
        top.Sum().Backward();
        Assert.Equal([1f, 0f, 1f, 1f, 1f, 0f], x.Grad!.ToArray());
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void GatherReadsInt32IndicesExactly(string backend)
    {
        using var scope = TestBackends.Use(backend);
        var x = Tensor.Zeros(BeyondFloat + 2);
        x[BeyondFloat] = 7;
        Assert.Equal([7f], F.Gather(x, 0, Tensor.FromInt32([BeyondFloat])).ToArray()); // a float index would read 0

        // Small: the same values and gradients as float indices, and an index out of range named.
        var source = Tensor.Randn([3, 4], seed: 5);
        SameAsFloatIndices((leaf, index) => F.Gather(leaf, 1, index), source, [3, 0, 0, 1, 2, 2], 3, 2);
        Assert.Contains("index 4 at position 0 is out of range", Assert.Throws<ArgumentException>(() => F.Gather(source, 1, Tensor.FromInt32([4], 1, 1))).Message);
        Assert.Contains("index 16777217 at position 1 is out of range", // named exactly, not as the float 1.6777216E+07
            Assert.Throws<ArgumentException>(() => F.Gather(source, 1, Tensor.FromInt32([0, BeyondFloat], 1, 2))).Message);
    }

    /// <summary><paramref name="op"/> on <paramref name="source"/> gives the same values and gradients with Int32 <paramref name="positions"/> as with float ones.</summary>
    static void SameAsFloatIndices(Func<Tensor, Tensor, Tensor> op, Tensor source, int[] positions, params int[] shape)
    {
        (float[] Values, float[] Grad) Run(Tensor index)
        {
            var leaf = source.Detach().RequireGrad();
            var y = op(leaf, index);
            (y * y).Sum().Backward();
            return (y.ToArray(), leaf.Grad!.ToArray());
        }
        var asFloat = Run(Tensor.FromArray(positions.Select(p => (float)p).ToArray(), shape));
        var asInt = Run(Tensor.FromInt32(positions, shape));
        Assert.Equal(asFloat.Values, asInt.Values);
        Assert.Equal(asFloat.Grad, asInt.Grad);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void IndexSelectReadsInt32IndicesExactly(string backend)
    {
        using var scope = TestBackends.Use(backend);
        var x = Tensor.Zeros(BeyondFloat + 2);
        x[BeyondFloat] = 7;
        Assert.Equal([7f, 0f], F.IndexSelect(x, 0, Tensor.FromInt32([BeyondFloat, BeyondFloat - 1])).ToArray()); // a float index would read 0, 0

        var source = Tensor.Randn([3, 4], seed: 6);
        SameAsFloatIndices((leaf, indices) => F.IndexSelect(leaf, 1, indices), source, [3, 0, 3], 3);
        Assert.Contains("index 16777217 at position 1 is out of range for axis 1 of size 4",
            Assert.Throws<ArgumentException>(() => F.IndexSelect(source, 1, Tensor.FromInt32([0, BeyondFloat]))).Message);
        Assert.Contains("index -1 at position 0 is out of range",
            Assert.Throws<ArgumentException>(() => F.IndexSelect(source, 1, Tensor.FromInt32([-1]))).Message);
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void MaxPoolAndRoiPoolKeepTheirArgmaxInInt32Storage(string name)
    {
        var backend = TestBackends.Named(name);
        // One 2×4 plane, 2×2 windows with stride 2: maxima 5 (position 1) and 9 (position 6).
        var x = backend.FromArray([1f, 5f, 2f, 0f, 3f, 4f, 9f, 8f]);
        var pool = new Pool2dGeometry(1, 2, 4, 1, 2, 2, 2, 0, 1);
        var (y, argmax) = (backend.Allocate(2), backend.AllocateIndices(2));
        backend.MaxPool2d(x, pool, y, argmax);
        var positions = new int[2];
        backend.CopyIndicesTo(argmax, positions);
        Assert.Equal([1, 6], positions);
        var grad = backend.Allocate(8);
        backend.MaxPool2dBackward(backend.FromArray([10f, 20f]), argmax, pool, grad);
        var routed = new float[8];
        backend.CopyTo(grad, routed);
        Assert.Equal([0f, 10f, 0f, 0f, 0f, 0f, 20f, 0f], routed);

        // RoI max pooling of the whole plane into one bin: 9 at position 6.
        var roi = new RoiGeometry(1, 2, 4, 1, 1, 1, 1f, 0, false);
        var (pooled, at) = (backend.Allocate(1), backend.AllocateIndices(1));
        backend.RoiPool(x, backend.FromArray([0f, 0f, 0f, 3f, 1f]), roi, pooled, at);
        var roiPosition = new int[1];
        backend.CopyIndicesTo(at, roiPosition);
        Assert.Equal([6], roiPosition);
    }

    [Fact]
    public void AnInt32TargetOfTheInputsRankIsReadAsClassIndicesNotProbabilities()
    {
        // As PyTorch: a long target is class indices whatever its rank, so (2, 3) against logits (2, 3) is a shape error.
        var logits = Tensor.Randn([2, 3], seed: 1);
        Assert.Contains("target shape [2, 3] does not match input shape [2, 3] (expected [2])",
            Assert.Throws<ArgumentException>(() => F.CrossEntropy(logits, Tensor.FromInt32([0, 1, 0, 0, 0, 1], 2, 3))).Message);
        Assert.True(F.CrossEntropy(logits, Tensor.FromArray([0f, 1, 0, 0, 0, 1], 2, 3)).Item() > 0); // float: probabilities
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void ClassTargetsAsInt32PickTheirClassBeyondFloatPrecision(string backend)
    {
        using var scope = TestBackends.Use(backend);
        int classes = BeyondFloat + 1;
        var logits = Tensor.Zeros(1, classes);
        logits[0, BeyondFloat] = 5;
        logits.RequiresGrad = true;
        var loss = F.CrossEntropy(logits, Tensor.FromInt32([BeyondFloat]));
        // −log softmax_t = log(Σ e^x) − x_t with every logit 0 but the target's 5 (a float target, 16777216, would give
        // 5 more). The tolerance covers a float32 sum of 16.7 million terms.
        double sum = classes - 1 + Math.Exp(5);
        Assert.Equal(Math.Log(sum) - 5, loss.Item(), 0.05);
        loss.Backward();
        var grad = logits.Grad!;
        Assert.Equal(Math.Exp(5) / sum - 1, grad[0, BeyondFloat], 1e-4);
        Assert.Equal(1 / sum, grad[0, BeyondFloat - 1], 1e-8); // the neighbour a float target would have named (≈ −1 then)
    }

    [Theory]
    [MemberData(nameof(TestBackends.Names), MemberType = typeof(TestBackends))]
    public void Int32AndFloatClassTargetsGiveTheSameLossAndGradient(string backend)
    {
        using var scope = TestBackends.Use(backend);
        foreach (var target in new[] { backend, "minimal" })
        {
            var onBackend = target == "minimal" ? (IBackend)MinimalBackend.Instance : TestBackends.Named(backend);
            (float Loss, float[] Grad) Run(Tensor targets)
            {
                var logits = Tensor.Randn([5, 4, 2], seed: 3).To(onBackend).RequireGrad();
                var loss = F.CrossEntropy(logits, targets.To(onBackend), ignoreIndex: 2, labelSmoothing: 0.2f);
                loss.Backward();
                return (loss.Item(), logits.Grad!.ToArray());
            }
            int[] classes = [0, 3, 2, 1, 3, 0, 2, 1, 1, 3];
            var asFloat = Run(Tensor.FromArray(classes.Select(c => (float)c).ToArray(), 5, 2));
            var asInt = Run(Tensor.FromInt32(classes, 5, 2));
            Assert.Equal(asFloat.Loss, asInt.Loss);
            Assert.Equal(asFloat.Grad, asInt.Grad);
        }
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => F.CrossEntropy(Tensor.Zeros(2, 3), Tensor.FromInt32([1, 3])));
        Assert.Contains("target 3 at position 1", error.Message);
    }
}
