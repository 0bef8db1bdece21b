// convkit: the command-line face of ConvKit. Commands are added by the issues that build them.
using System.CommandLine;

var root = new RootCommand("ConvKit: train and run convolutional neural networks in pure .NET.");
root.Subcommands.Add(ConvKit.Cli.Commands.ModelsCommand.Create());
root.Subcommands.Add(ConvKit.Cli.Commands.SummaryCommand.Create());
return root.Parse(args).Invoke();
