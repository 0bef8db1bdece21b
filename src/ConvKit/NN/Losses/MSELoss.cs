using ConvKit.Ops;

namespace ConvKit.NN;

/// <summary>Mean squared error (x − y)² between input and target of one shape.</summary>
public class MSELoss(Reduction reduction = Reduction.Mean) : Loss(reduction)
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor input, Tensor target) => F.MseLoss(input, target, Reduction);
}
