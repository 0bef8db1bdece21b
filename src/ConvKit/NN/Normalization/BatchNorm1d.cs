namespace ConvKit.NN;

/// <summary>Batch normalisation of (N, C) or (N, C, L) inputs over every axis but C (see <see cref="BatchNorm"/>).</summary>
public sealed class BatchNorm1d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckRank(int[] inputShape)
    {
        if (inputShape.Length is not (2 or 3))
            throw new ArgumentException($"BatchNorm1d: expected an input of shape (N, C) or (N, C, L), got {Shapes.Format(inputShape)}.");
    }
}
