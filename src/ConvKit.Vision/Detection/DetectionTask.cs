using ConvKit.Data;
using ConvKit.NN;
using ConvKit.Training;

namespace ConvKit.Vision.Detection;

/// <summary>
/// Object detection with a YOLO-style model (<see cref="IDetectionModel"/>): the loss is <see cref="YoloLoss"/> on the
/// batch's boxes (reported as <c>box_loss</c>, <c>obj_loss</c> and <c>cls_loss</c> beside the total); the metrics are
/// COCO's AP at IoU 0.5 (<c>map50</c>) and AP@[.5:.95] (<c>map</c>) over the epoch's pictures
/// (<see cref="DetectionEvaluator"/> on <see cref="YoloDecoder"/>'s detections with the default
/// <see cref="DetectionOptions"/>); the best checkpoint by <c>map50</c>.
/// A region-based model (<see cref="IRegionDetectionModel"/>: R-CNN, Fast and Faster R-CNN) brings its own loss and
/// terms (<see cref="IRegionDetectionModel.Loss"/>) and its own detections (<see cref="IRegionDetectionModel.Detect"/>).
/// Its metrics are computed on evaluation steps only (the test set's, <see cref="Trainer.Evaluate"/>'s): detecting is a
/// second pass over the pictures, proposals and all, so the training epochs report <c>map50</c> and <c>map</c> as NaN.
/// </summary>
public sealed class DetectionTask : TrainingTask
{
    int? datasetClasses;
    (TaskStep Step, IReadOnlyList<DetectedObject>[] Detections, int Classes)? lastDecoded;
    IDetectionModel? lastModel;
    (TaskStep Step, IRegionDetectionModel Model, Tensor Images, bool Training)? lastRegionStep;

    /// <summary>The loss's weights.</summary>
    public YoloLoss Loss { get; init; } = new();

    /// <summary>How the metrics' detections are kept.</summary>
    public DetectionOptions Decoding { get; init; } = new();

    /// <inheritdoc/>
    public override string Monitor => "map50";

    /// <inheritdoc/>
    public override IReadOnlyList<Metric> CreateMetrics() => [new MeanAveragePrecision(this, "map50"), new MeanAveragePrecision(this, "map")];

    /// <inheritdoc/>
    public override void CheckDataset(Dataset dataset)
    {
        if (dataset.Classes.Count < 1) throw new ArgumentException("DetectionTask: the dataset has no classes.");
        if (dataset.Count > 0 && dataset.GetSample(0).Boxes == null)
            throw new ArgumentException($"DetectionTask: the dataset's samples have no boxes ({dataset.GetType().Name}); detection needs a detection dataset (COCO, VOC or YOLO).");
        datasetClasses = dataset.Classes.Count;
    }

    /// <inheritdoc/>
    public override TaskStep Step(Module model, Batch batch)
    {
        if (model is IRegionDetectionModel regionModel) return RegionStep(regionModel, batch);
        var detector = model as IDetectionModel ?? throw new InvalidOperationException(
            $"DetectionTask: {model.GetType().Name} is not a detection model (IDetectionModel); use e.g. yolo-small.");
        var boxes = batch.Boxes ?? throw new InvalidOperationException("DetectionTask: the batch has no boxes; every sample needs Boxes.");
        if (datasetClasses is { } classes && classes != detector.Classes)
            throw new InvalidOperationException($"DetectionTask: the model detects {detector.Classes} classes but the dataset has {classes}.");
        var outputs = model.ForwardOutputs(batch.Images);
        var terms = Loss.Compute(outputs.Main, detector.Anchors, detector.Stride, boxes);
        lastModel = detector;
        return new TaskStep(terms.Loss, outputs)
        {
            Terms = new Dictionary<string, Tensor> { ["box_loss"] = terms.BoxLoss, ["obj_loss"] = terms.ObjectLoss, ["cls_loss"] = terms.ClassLoss },
        };
    }

    TaskStep RegionStep(IRegionDetectionModel model, Batch batch)
    {
        var boxes = batch.Boxes ?? throw new InvalidOperationException("DetectionTask: the batch has no boxes; every sample needs Boxes.");
        if (datasetClasses is { } classes && classes != model.Classes)
            throw new InvalidOperationException($"DetectionTask: the model detects {model.Classes} classes but the dataset has {classes}.");
        var loss = model.Loss(batch.Images, boxes);
        var step = new TaskStep(loss.Loss, new TensorDict()) { Terms = loss.Terms };
        lastRegionStep = (step, model, batch.Images, ((Module)model).Training);
        return step;
    }

    /// <summary>The detections of a step's pictures (decoded once for both metrics) and the model's number of classes; null for a region model's training step.</summary>
    (IReadOnlyList<DetectedObject>[] Detections, int Classes)? Decode(TaskStep step)
    {
        if (lastDecoded is { } cached && ReferenceEquals(cached.Step, step)) return (cached.Detections, cached.Classes);
        if (lastRegionStep is { } region && ReferenceEquals(region.Step, step))
        {
            if (region.Training) return null;
            // The region models detect in evaluation mode (batch-norm statistics, detection-time proposals), as Detector does.
            var module = (Module)region.Model;
            bool training = module.Training;
            module.Eval();
            try
            {
                var found = region.Model.Detect(region.Images.Detach(), Decoding);
                lastDecoded = (step, found, region.Model.Classes);
                return (found, region.Model.Classes);
            }
            finally { module.Train(training); }
        }
        var model = lastModel ?? throw new InvalidOperationException("DetectionTask: a metric was updated before any step.");
        var detections = YoloDecoder.Decode(step.Outputs.Main, model.Anchors, model.Stride, Decoding);
        lastDecoded = (step, detections, model.Classes);
        return (detections, model.Classes);
    }

    /// <summary>
    /// COCO mAP over the pictures seen: at IoU 0.5 (<c>map50</c>) or averaged over 0.5 … 0.95 (<c>map</c>). Its state is
    /// [pictures, classes, truths, then 6 numbers per truth (picture, class, x1, y1, x2, y2), then 7 per detection (…, score)].
    /// </summary>
    sealed class MeanAveragePrecision(DetectionTask task, string name) : Metric
    {
        readonly List<GroundTruthBox> truths = [];
        readonly List<DetectedBox> detections = [];
        int pictures, classes;

        public override string Name => name;

        public override void Update(Batch batch, TaskStep step)
        {
            if (task.Decode(step) is not { } result) return;   // a region model's training step: not scored
            var (decoded, modelClasses) = result;
            classes = modelClasses;
            for (int n = 0; n < decoded.Length; n++, pictures++)
            {
                var boxes = batch.Boxes![n].ConvertTo(BoxFormat.Xyxy, relative: false);
                for (int t = 0; t < boxes.Count; t++)
                    truths.Add(new GroundTruthBox(pictures, boxes.Labels[t], boxes[t][0], boxes[t][1], boxes[t][2], boxes[t][3]));
                foreach (var d in decoded[n]) detections.Add(new DetectedBox(pictures, d.Class, d.X1, d.Y1, d.X2, d.Y2, d.Score));
            }
        }

        public override double Compute()
        {
            if (pictures == 0) return double.NaN;
            var evaluator = new DetectionEvaluator(classes);
            evaluator.Add(truths, detections);
            var coco = evaluator.Coco();
            return name == "map50" ? coco.Ap50 : coco.Ap;
        }

        public override double[] State
        {
            get => [pictures, classes, truths.Count,
                .. truths.SelectMany(t => new double[] { t.Image, t.Class, t.X1, t.Y1, t.X2, t.Y2 }),
                .. detections.SelectMany(d => new double[] { d.Image, d.Class, d.X1, d.Y1, d.X2, d.Y2, d.Score })];
            set
            {
                (pictures, classes) = ((int)value[0], (int)value[1]);
                int count = (int)value[2], start = 3 + 6 * count;
                truths.Clear();
                detections.Clear();
                for (int i = 3; i < start; i += 6)
                    truths.Add(new GroundTruthBox((int)value[i], (int)value[i + 1], (float)value[i + 2], (float)value[i + 3], (float)value[i + 4], (float)value[i + 5]));
                for (int i = start; i < value.Length; i += 7)
                    detections.Add(new DetectedBox((int)value[i], (int)value[i + 1], (float)value[i + 2], (float)value[i + 3], (float)value[i + 4], (float)value[i + 5], (float)value[i + 6]));
            }
        }
    }
}
