using Voting.LoadGen;

return await LoadCommand.RunAsync(args, Console.Out, Console.Error);
