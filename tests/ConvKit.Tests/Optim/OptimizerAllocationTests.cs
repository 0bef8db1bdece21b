using ConvKit.Optim;

namespace ConvKit.Tests.Optim;

[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;

/// <summary>
/// Steps allocate nothing the size of the parameters once their state exists (the fused kernels work in place
/// with pooled scratch rows). Runs alone so that the process-wide allocation count sees only this test.
/// </summary>
[Collection(nameof(AllocationMeasurement))]
public class OptimizerAllocationTests
{
    const int Parameters = 1 << 20;
    const long Budget = 256 * 1024; // a quarter of one float per parameter: only per-step bookkeeping fits

    [Fact]
    public void AdamAndSgdStepsOverAMillionParametersDoNotAllocatePerElement()
    {
        var weight = Tensor.Randn([Parameters], seed: 3).RequireGrad();
        weight.Grad = Tensor.Randn([Parameters], seed: 4);
        foreach (Optimizer optimizer in new Optimizer[] { new Adam([weight], amsgrad: true, weightDecay: 0.01), new SGD([weight], lr: 0.1, momentum: 0.9, nesterov: true) })
        {
            optimizer.Step(); // creates the state buffers
            optimizer.Step();
            long before = GC.GetTotalAllocatedBytes(precise: true);
            optimizer.Step();
            long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
            Assert.True(allocated < Budget, $"{optimizer.GetType().Name}.Step allocated {allocated} bytes for {Parameters} parameters");
        }
    }
}
