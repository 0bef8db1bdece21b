namespace ConvKit.NN;

/// <summary>Batch normalisation of (N, C, H, W) inputs per channel, over N, H and W (see <see cref="BatchNorm"/>).</summary>
public sealed class BatchNorm2d(int numFeatures, float eps = 1e-5f, float? momentum = 0.1f, bool affine = true, bool trackRunningStats = true)
    : BatchNorm(numFeatures, eps, momentum, affine, trackRunningStats)
{
    /// <inheritdoc/>
    protected override void CheckRank(int[] inputShape)
    {
        if (inputShape.Length != 4)
            throw new ArgumentException($"BatchNorm2d: expected an input of shape (N, C, H, W), got {Shapes.Format(inputShape)}.");
    }
}
