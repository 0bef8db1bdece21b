namespace ConvKit.Vision.Detection;

/// <summary>
/// A single-scale grid detector (YOLO v2 style): (N, C, H, W) in, raw predictions (N, B·(5 + classes), H/Stride,
/// W/Stride) out, anchor-major (<see cref="YoloDecoder"/> reads them). Its anchors travel with its weights.
/// </summary>
public interface IDetectionModel
{
    /// <summary>Input pixels per grid cell; the input's height and width must be multiples of it.</summary>
    int Stride { get; }

    /// <summary>The number of object classes.</summary>
    int Classes { get; }

    /// <summary>(B, 2): each anchor's width and height in pixels of the input (a registered buffer, saved in checkpoints).</summary>
    Tensor Anchors { get; }

    /// <summary>Replaces the anchors' sizes (e.g. with <see cref="AnchorBoxes.KMeans"/>'s); their number is fixed by the model's head.</summary>
    void SetAnchors(ReadOnlySpan<(float Width, float Height)> anchors);
}
