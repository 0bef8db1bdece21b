using ConvKit.Autograd;
using ConvKit.Backends;
using ConvKit.Backends.Cpu;
using ConvKit.Backends.Reference;
using ConvKit.NN;
using ConvKit.Ops;
using ConvKit.Optim;

namespace ConvKit.Tests.Backends;

/// <summary>
/// Tensors that know their backend: <see cref="Tensor.To"/> and <see cref="Module.To"/> move them, ops refuse operands of
/// two backends by name, and a model moved to a backend trains there while the default backend is another one: every
/// scalar and temporary of the ops, backward rules, loss and optimiser is made on the operands' backend.
/// </summary>
public class BackendTransferTests
{
    static readonly ReferenceBackend Reference = ReferenceBackend.Instance;
    static readonly CpuBackend Cpu = CpuBackend.Instance;

    [Fact]
    public void ToCopiesTheValuesAndTheGradientFlowsBackToTheSourceBackend()
    {
        var x = Tensor.FromArray([1f, -2f, 3f]).RequireGrad();
        var moved = x.To(Reference);
        Assert.Same(Reference, moved.Backend);
        Assert.Equal(x.ToArray(), moved.ToArray());
        Assert.Equal("To", moved.GradFn?.Op);
        Assert.Same(x, x.To(Cpu)); // already there: the tensor itself, as torch's .to

        (moved * moved).Sum().Backward();
        Assert.Same(Cpu, x.Grad!.Backend);
        Assert.Equal([2f, -4f, 6f], x.Grad.ToArray());

        var plain = Tensor.Ones(2).To(Reference); // no gradient wanted: none recorded
        Assert.False(plain.RequiresGrad);
    }

    [Fact]
    public void ModuleToMovesParametersBuffersAndGradientsInPlace()
    {
        var model = new Sequential(new Conv2d(1, 2, 3, random: new Random(1)), new BatchNorm2d(2));
        var before = model.StateDict().ToDictionary(e => e.Key, e => e.Value.ToArray());
        var tensors = model.NamedParameters().Select(p => p.Parameter).Concat(model.NamedBuffers().Select(b => b.Buffer)).ToList();
        var weight = model.Parameters().First();
        weight.Grad = Tensor.Ones([.. weight.Shape]);

        Assert.Same(model, model.To(Reference));

        var after = model.NamedParameters().Select(p => p.Parameter).Concat(model.NamedBuffers().Select(b => b.Buffer)).ToList();
        Assert.Equal(tensors, after); // the same objects: the layers hold them
        Assert.All(after, t => Assert.Same(Reference, t.Backend));
        Assert.Same(Reference, weight.Grad.Backend);
        foreach (var (name, value) in model.StateDict()) Assert.Equal(before[name], value.ToArray());
        Assert.True(weight.RequiresGrad);

        var y = model.Forward(Tensor.Randn([1, 1, 5, 5], seed: 2).To(Reference));
        Assert.Same(Reference, y.Backend);
    }

    [Fact]
    public void OptimiserStateFollowsAModelMovedBetweenSteps()
    {
        // Momentum SGD and AMSGrad Adam, stepped twice on the CPU, then twice more after Module.To(Reference), end where
        // the same run that stayed on the CPU ends; their buffers (made on the CPU) moved with the parameters.
        foreach (var make in new Func<IEnumerable<Tensor>, Optimizer>[] { p => new SGD(p, lr: 0.1, momentum: 0.9), p => new Adam(p, lr: 0.05, amsgrad: true) })
        {
            float[][] Train(bool move)
            {
                var model = new Linear(3, 2, random: new Random(7));
                var optimizer = make(model.Parameters());
                var x = Tensor.Randn([4, 3], seed: 8);
                for (int step = 0; step < 4; step++)
                {
                    if (move && step == 2)
                    {
                        model.To(Reference);
                        x = x.To(Reference);
                    }
                    optimizer.ZeroGrad();
                    model.Forward(x).Square().Sum().Backward();
                    optimizer.Step();
                }
                if (move)
                    Assert.All(optimizer.StateDict().Where(e => e.Key.StartsWith("state.", StringComparison.Ordinal) && !e.Key.EndsWith(".step", StringComparison.Ordinal)),
                        e => Assert.Same(Reference, e.Value.Backend));
                return model.Parameters().Select(p => p.ToArray()).ToArray();
            }
            var stayed = Train(move: false);
            var moved = Train(move: true);
            for (int i = 0; i < stayed.Length; i++)
                Close.All(moved[i].Select(v => (double)v).ToArray(), stayed[i], 1e-5, 1e-6, $"parameter {i}");
        }
    }

    [Fact]
    public void LoadStateDictCopiesAcrossBackends()
    {
        var source = new Linear(3, 2, random: new Random(3));
        var target = new Linear(3, 2, random: new Random(4)).To(Reference);
        target.LoadStateDict(source.StateDict());
        Assert.Equal(source.Parameters().First().ToArray(), target.Parameters().First().ToArray());
        Assert.Same(Reference, target.Parameters().First().Backend);
    }

    public static TheoryData<string, Func<Tensor, Tensor, Tensor>> MixedOps() => new()
    {
        { "Add", (a, b) => a + b },
        { "MatMul", (a, b) => F.MatMul(a.Reshape(2, 2), b.Reshape(2, 2)) },
        { "Conv2d", (a, b) => F.Conv2d(a.Reshape(1, 1, 2, 2), b.Reshape(1, 1, 2, 2)) },
        { "Linear", (a, b) => F.Linear(a.Reshape(1, 4), b.Reshape(1, 4)) },
        { "Concat", (a, b) => Tensor.Concat([a, b]) },
        { "Where", (a, b) => F.Where(a, b, b) },
        { "CrossEntropy", (a, b) => F.CrossEntropy(a.Reshape(2, 2), b.Narrow(0, 0, 2) * 0f) },
        { "AddInPlace", (a, b) => a.Detach().AddInPlace(b) },
    };

    [Theory]
    [MemberData(nameof(MixedOps))]
    public void AnOpGivenTensorsOfTwoBackendsNamesItselfAndBoth(string op, Func<Tensor, Tensor, Tensor> run)
    {
        var onCpu = Tensor.FromArray([1f, 0f, 1f, 1f]);
        var onReference = Tensor.FromArray([1f, 2f, 3f, 4f]).To(Reference);
        var error = Assert.Throws<ArgumentException>(() => run(onCpu, onReference));
        Assert.Contains($"{op}:", error.Message);
        Assert.Contains("cpu", error.Message);
        Assert.Contains("reference", error.Message);
    }

    /// <summary>Convolution, batch norm, ReLU, max pooling and a linear head, made on the default backend from seeds.</summary>
    static Sequential Network()
    {
        var random = new Random(11);
        return new Sequential(
            // No bias before batch norm: its gradient is zero up to rounding, which Adam would blow up to full-size steps.
            new Conv2d(2, 4, 3, padding: 1, bias: false, random: random),
            new BatchNorm2d(4),
            new ReLU(),
            new MaxPool2d(2),
            new Flatten(),
            new Linear(4 * 3 * 3, 3, random: random));
    }

    /// <summary>
    /// Trains <see cref="Network"/> moved to <paramref name="backend"/> for a few Adam steps on cross-entropy, and checks
    /// after each step that the graph, the gradients, the parameters, the buffers and the optimiser's state all live on
    /// <paramref name="backend"/>. Returns the losses and the parameters after the last step.
    /// </summary>
    static (float[] Losses, float[][] Parameters) TrainOn(IBackend backend)
    {
        var model = Network().To(backend);
        var x = Tensor.Randn([4, 2, 6, 6], seed: 5).To(backend);
        var labels = Tensor.FromArray([0f, 2f, 1f, 2f]).To(backend);
        var optimizer = new Adam(model.Parameters(), lr: 0.05);
        var losses = new List<float>();
        for (int step = 0; step < 4; step++)
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), labels);
            AssertGraphOn(backend, loss);
            loss.Backward();
            optimizer.Step();
            losses.Add(loss.Item());
            Assert.All(model.Parameters(), p => { Assert.Same(backend, p.Backend); Assert.Same(backend, p.Grad!.Backend); });
            Assert.All(model.NamedBuffers(), b => Assert.Same(backend, b.Buffer.Backend));
            Assert.All(optimizer.ParameterGroups.SelectMany(g => g.Parameters), p => Assert.Same(backend, p.Backend));
        }
        return ([.. losses], model.Parameters().Select(p => p.ToArray()).ToArray());
    }

    /// <summary>
    /// The output and every leaf the graph behind it reaches live on <paramref name="backend"/>. Nodes keep no
    /// intermediate values (only their rules do), but an intermediate on another backend would have made the next op
    /// refuse its operands, and a scalar made on the default backend is caught by the refusing-default test below.
    /// </summary>
    static void AssertGraphOn(IBackend backend, Tensor output)
    {
        Assert.Same(backend, output.Backend);
        var seen = new HashSet<Node>();
        var pending = new Stack<Node>();
        int leaves = 0;
        if (output.GradFn is { } root) pending.Push(root);
        while (pending.TryPop(out var node))
        {
            if (!seen.Add(node)) continue;
            foreach (var edge in node.Edges)
            {
                if (edge.Producer is { } producer) pending.Push(producer);
                else if (edge.Leaf is { } leaf)
                {
                    leaves++;
                    Assert.True(leaf.Backend == backend, $"a leaf of shape ({string.Join(", ", leaf.Shape)}) feeding {node.Op} lives on {leaf.Backend.Name}, not {backend.Name}");
                }
            }
        }
        // conv, batch norm, ReLU, pooling, flattening, linear, loss; the parameters are the leaves
        Assert.True(seen.Count >= 7 && leaves >= 4, $"the walk should reach the whole network's graph, reached {seen.Count} nodes and {leaves} leaves");
    }

    [Fact]
    public void AModelMovedToTheReferenceTrainsThereWhileTheDefaultIsTheCpu()
    {
        Assert.Same(Cpu, Backend.Default);
        var onReference = TrainOn(Reference);
        var onCpu = TrainOn(Cpu);
        Close.All(onReference.Losses.Select(v => (double)v).ToArray(), onCpu.Losses, 1e-4, 1e-5, "losses");
        for (int i = 0; i < onCpu.Parameters.Length; i++)
            Close.All(onReference.Parameters[i].Select(v => (double)v).ToArray(), onCpu.Parameters[i], 1e-3, 1e-5, $"parameter {i}");
        Assert.True(onReference.Losses[^1] < onReference.Losses[0], "the loss should fall, or the steps did not train");
    }

    [Fact]
    public void TrainingOnTheReferenceMakesNothingOnTheDefaultBackend()
    {
        // The network and data are made (on the CPU) and moved first; then every call that reaches the default
        // backend while training throws, naming the kernel: nothing in the ops, backward rules, loss or Adam may
        // make a scalar or a temporary anywhere but on its operands' backend.
        var model = Network().To(Reference);
        var x = Tensor.Randn([4, 2, 6, 6], seed: 5).To(Reference);
        var labels = Tensor.FromArray([0f, 2f, 1f, 2f]).To(Reference);
        var optimizer = new Adam(model.Parameters(), lr: 0.05, amsgrad: true);
        using var scope = Backend.Use(new RefusingBackend());
        for (int step = 0; step < 2; step++)
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Forward(x), labels, labelSmoothing: 0.1f);
            loss.Backward();
            optimizer.Step();
        }
        model.Eval();
        Assert.Same(Reference, model.Forward(x).Backend);
    }
}
