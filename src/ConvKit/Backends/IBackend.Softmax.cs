namespace ConvKit.Backends;

// Softmax family. The tensor is read as (outer, extent, inner) and normalised along the middle axis, so any
// axis works without a transpose: inner = 1 when it is the last one.
public partial interface IBackend
{
    /// <summary>y = exp(x − max) / Σ exp(x − max) along the middle axis of (outer, extent, inner).</summary>
    void Softmax(Storage x, int outer, int extent, int inner, Storage y);

    /// <summary>y = x − max − log Σ exp(x − max) along the middle axis of (outer, extent, inner).</summary>
    void LogSoftmax(Storage x, int outer, int extent, int inner, Storage y);

    /// <summary>dx = y ⊙ (dy − Σ dy ⊙ y), the sum along the middle axis; <paramref name="y"/> is the softmax output.</summary>
    void SoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx);

    /// <summary>dx = dy − exp(y) · Σ dy, the sum along the middle axis; <paramref name="y"/> is the log-softmax output.</summary>
    void LogSoftmaxBackward(Storage y, Storage dy, int outer, int extent, int inner, Storage dx);
}
