using ConvKit.Data;

namespace ConvKit.Vision.Detection;

/// <summary>
/// A region-based detector (<see cref="RCnn"/>, <see cref="FastRCnn"/>, <see cref="FasterRCnn"/>): it proposes regions,
/// classifies them and refines their boxes, so unlike a grid detector (<see cref="IDetectionModel"/>) its training loss
/// and its detections need the pictures' boxes and proposals, not one raw output. <see cref="DetectionTask"/>,
/// <see cref="Detector"/> and <c>convkit detect</c> drive both kinds the same way.
/// </summary>
public interface IRegionDetectionModel
{
    /// <summary>The number of object classes (the head adds a background class).</summary>
    int Classes { get; }

    /// <summary>
    /// The training loss on a batch: its total and named terms (rank-0 tensors) — <c>cls_loss</c> and <c>box_loss</c> of the
    /// head, and for Faster R-CNN <c>rpn_obj_loss</c> and <c>rpn_box_loss</c> of its proposal network. The regions are drawn
    /// from <see cref="Generator.Current"/>.
    /// </summary>
    /// <param name="images">(N, C, H, W) normalised pictures</param>
    /// <param name="boxes">each picture's ground truth, on an H × W canvas</param>
    RegionDetectionLoss Loss(Tensor images, IReadOnlyList<BoundingBoxes> boxes);

    /// <summary>Each picture's detections, boxes xyxy in its pixels, by decreasing score (no gradient recorded).</summary>
    /// <param name="images">(N, C, H, W) normalised pictures</param>
    /// <param name="options">score threshold, NMS IoU and maximum detections; null for the defaults</param>
    IReadOnlyList<DetectedObject>[] Detect(Tensor images, DetectionOptions? options = null);
}

/// <summary>A region detector's loss: the total and its terms (each a rank-0 tensor).</summary>
public sealed record RegionDetectionLoss(Tensor Loss, IReadOnlyDictionary<string, Tensor> Terms);
