namespace ConvKit.Vision.Faces;

/// <summary>How <see cref="TripletLoss"/> picks its triplets online, from the distances inside one batch of P identities × K pictures.</summary>
public enum TripletMining
{
    /// <summary>
    /// Batch-hard (Hermans, Beyer and Leibe, "In Defense of the Triplet Loss", 2017): every picture is an anchor once,
    /// with its farthest positive and its nearest negative; the loss is the mean over the anchors.
    /// </summary>
    BatchHard,

    /// <summary>
    /// Batch-semi-hard (Schroff et al., FaceNet, 2015, as TensorFlow Addons' <c>triplet_semihard_loss</c>): every
    /// anchor–positive pair (a ≠ p) with the nearest negative farther than the positive (d(a,n) &gt; d(a,p)); when no
    /// negative is that far, the farthest negative. The loss is the mean over the anchor–positive pairs.
    /// </summary>
    BatchSemiHard,
}
