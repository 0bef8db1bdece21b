using System.CommandLine;
using ConvKit.IO;
using ConvKit.NN;
using ConvKit.Onnx;
using ConvKit.Training;
using ConvKit.Vision.Classification;
using ConvKit.Vision.Detection;
using ConvKit.Vision.Models;
using Google.Protobuf;
using Spectre.Console;

namespace ConvKit.Cli.Commands;

/// <summary>
/// <c>convkit export MODEL [--checkpoint F] [--input CxHxW] [--classes N] [--in-channels N] -o model.onnx</c>: a zoo model,
/// with trained weights from a <c>convkit train</c> checkpoint or freshly initialised, as an ONNX file (<see cref="OnnxExporter"/>).
/// </summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "A model name from 'convkit models' (the checkpoint's model when --checkpoint is given)." };
        var checkpoint = new Option<string?>("--checkpoint", "-c") { Description = "Trained weights: a checkpoint written by 'convkit train'." };
        var input = new Option<string?>("--input") { Description = "Input channels×height×width, e.g. 3x224x224 (default: the checkpoint's, else the model's own)." };
        var classes = new Option<int?>("--classes") { Description = "Number of classes (default: the checkpoint's, else the model's own)." };
        var inChannels = new Option<int?>("--in-channels") { Description = "Input channels (default: the checkpoint's, else the model's own)." };
        var output = new Option<string?>("--output", "-o") { Description = "The ONNX file to write (default: MODEL.onnx)." };
        var command = new Command("export", """
            Write a model as an ONNX file (opset 17) that ONNX Runtime and other tools can run. The input is named
            'input' and the output 'output'; the batch axis is free ('batch'), the other sizes are those of --input.
            The model runs in evaluation mode: dropout disappears and batch norm uses its running statistics.
            Without --checkpoint the weights are freshly initialised. faster-rcnn (a 'convkit detect train' checkpoint)
            is written whole, one picture (1×C×H×W) in, detections out: 'boxes' (D×4, xyxy pixels of the letterboxed
            input), 'scores' (D) and 'labels' (D, int64), proposals, box head and per-class NMS included (score ≥ 0.05,
            IoU 0.45, at most 100, as 'convkit detect eval' scores). A YOLO detector's file gives the raw grid, as the
            model does; its metadata holds what decoding needs beside the card: 'anchors' ([[width, height], ...] in
            pixels of the input) and 'stride'.
            """) { model, checkpoint, input, classes, inChannels, output };
        CommandOutput.AddJsonOption(command);
        CommandOutput.AddExamples(command, """
            convkit export lenet5 --checkpoint runs/lenet5-fashion-mnist/best.safetensors -o lenet5.onnx
            convkit export resnet18 --input 3x128x128 --classes 10 -o resnet18.onnx --json
            convkit export faster-rcnn --checkpoint runs/faster-rcnn-fashion-scenes/best.safetensors -o faster-rcnn.onnx
            """);
        command.SetAction(parsed => Run(parsed.GetValue(model)!, parsed.GetValue(checkpoint), parsed.GetValue(input), parsed.GetValue(classes),
            parsed.GetValue(inChannels), parsed.GetValue(output), new CommandOutput(parsed)));
        return command;
    }

    static int Run(string modelName, string? checkpointPath, string? input, int? classes, int? inChannels, string? outputPath, CommandOutput output)
    {
        var entry = ModelZoo.Get(modelName);
        if (classes is < 1) throw new ArgumentException($"--classes must be positive, not {classes}.");
        if (inChannels is < 1) throw new ArgumentException($"--in-channels must be positive, not {inChannels}.");
        (int Channels, int Height, int Width)? requested = input == null ? null : SummaryCommand.ParseInput(input);
        if (requested is { } r && inChannels is { } c && r.Channels != c)
            throw new ArgumentException($"--input has {r.Channels} channels but --in-channels says {c}.");

        Module model;
        ModelCard? card = null;
        (int Channels, int Height, int Width) shape;
        if (checkpointPath != null)
        {
            // A classifier (convkit train) or a detector (convkit detect train): the checkpoint's card says which.
            var saved = Checkpoint.Load(checkpointPath);
            bool detector = ModelCard.FromCheckpoint(saved, checkpointPath).Task == ModelCard.Detection;
            if (detector) (model, card) = ModelZoo.Load(saved, checkpointPath, ModelCard.Detection);
            else
            {
                var trained = Classifier.FromCheckpoint(saved, checkpointPath);
                (model, card) = (trained.Model, trained.Card);
            }
            if (!string.Equals(card.Model, entry.Name, StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"checkpoint '{checkpointPath}' holds a {card.Model} model, not {entry.Name}.");
            Agree("--classes", classes, card.Arguments.NumClasses, checkpointPath);
            Agree("--in-channels", inChannels ?? requested?.Channels, card.Arguments.InChannels, checkpointPath);
            var trainedInput = card.Preprocessing.InputShape;
            shape = requested ?? (trainedInput[0], trainedInput[1], trainedInput[2]);
            // The file carries the card; exported at another size, pictures are stretched to fill that input.
            int[] exported = [shape.Channels, shape.Height, shape.Width];
            if (!trainedInput.SequenceEqual(exported))
                card = card with { Preprocessing = card.Preprocessing with { InputShape = exported, ImageShape = exported } };
        }
        else
        {
            int channels = inChannels ?? requested?.Channels ?? entry.InChannels;
            shape = requested ?? (channels, entry.InputSize.Height, entry.InputSize.Width);
            model = entry.CreateFor(channels, classes ?? entry.NumClasses, new Size2(shape.Height, shape.Width));
        }

        outputPath ??= entry.Name + ".onnx";
        OutputFiles.Prepare(outputPath, "ONNX file", entry.Name + ".onnx");
        // Faster R-CNN is written whole, picture in and detections out (FasterRCnnOnnx), for one picture a run.
        var exportOptions = new OnnxExportOptions { ModelCard = card };
        var proto = model is FasterRCnn fasterRCnn
            ? FasterRCnnOnnx.ToModelProto(fasterRCnn, shape.Channels, shape.Height, shape.Width, options: exportOptions)
            : OnnxExporter.ToModelProto(model, [1, shape.Channels, shape.Height, shape.Width], exportOptions);
        // YOLO's decoding stays outside the graph, so the file carries the anchors and stride it needs.
        if (model is IDetectionModel yolo) OnnxDetections.AddYoloMetadata(proto, yolo.Anchors, yolo.Stride);
        AtomicFile.Write(outputPath, proto.WriteTo);
        long bytes = new FileInfo(outputPath).Length;
        object[] inputShape = [.. proto.Graph.Input[0].Type.TensorType.Shape.Dim.Select(Size)];
        var outputs = proto.Graph.Output.Select(o => (o.Name, Shape: (object[])[.. o.Type.TensorType.Shape.Dim.Select(Size)])).ToList();
        object[] outputShape = outputs[0].Shape;
        // The file holds the parameters the evaluation-mode graph uses (initialisers under their state-dict names); layers
        // used only in training (GoogLeNet's auxiliary classifiers) are not in it, and the count says so.
        var initializers = proto.Graph.Initializer.Select(i => i.Name).ToHashSet();
        var left = model.NamedParameters().Where(p => !initializers.Contains(p.Name)).ToList();
        long exportedParameters = model.ParameterCount() - left.Sum(p => (long)p.Parameter.Numel);
        string[] leftModules = left.Select(p => p.Name.Split('.')[0]).Distinct().ToArray();

        if (output.Json)
        {
            output.WriteJson(new
            {
                model = entry.Name, checkpoint = checkpointPath, output = outputPath, opset = OnnxExporter.OpsetVersion,
                input_shape = inputShape, output_shape = outputShape, outputs = outputs.ToDictionary(o => o.Name, o => o.Shape),
                parameters = exportedParameters, parameters_not_exported = model.ParameterCount() - exportedParameters, modules_not_exported = leftModules,
                nodes = proto.Graph.Node.Count, bytes,
            });
            return 0;
        }
        output.Line($"[bold]{entry.Name}[/] ({(checkpointPath == null ? "fresh weights" : Markup.Escape(checkpointPath))}) → " +
            $"[bold]{Markup.Escape(outputPath)}[/]: ONNX opset {OnnxExporter.OpsetVersion}, {proto.Graph.Node.Count} nodes, " +
            $"{exportedParameters:N0} parameters, {bytes / 1e6:F1} MB");
        if (left.Count > 0)
            output.Line($"Not exported: {Markup.Escape(string.Join(", ", leftModules))} ({model.ParameterCount() - exportedParameters:N0} parameters): " +
                "layers used only in training, such as auxiliary classifiers; the file computes what evaluation mode computes.");
        output.Line($"input  'input'  [[{string.Join(", ", inputShape)}]]");
        foreach (var (name, dims) in outputs) output.Line($"output '{Markup.Escape(name)}' [[{string.Join(", ", dims)}]]");
        return 0;
    }

    static object Size(Onnx.Proto.TensorShapeProto.Types.Dimension d) =>
        d.ValueCase == Onnx.Proto.TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue : d.DimParam;

    static void Agree(string option, int? given, int recorded, string checkpointPath)
    {
        if (given is { } value && value != recorded)
            throw new ArgumentException($"{option} {value} does not match checkpoint '{checkpointPath}', which has {recorded}.");
    }
}
