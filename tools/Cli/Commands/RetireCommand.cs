using System.CommandLine;
using System.Net.Http.Json;
using System.Text.Json;
using Voting.Cli.Local;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting retire frontendNN [--force]</c>: tells the registry (in the worker tier) to forget a front end that is
/// gone for good, once its stream is drained. Once retired, its Redis is stopped too; its data stays.
/// </summary>
internal static class RetireCommand
{
    public static Command Create()
    {
        var frontend = new Argument<string>("frontend") { Description = "the front end, e.g. frontend03 (stop it first: ./voting stop frontend03)" };
        var force = new Option<bool>("--force") { Description = "even with votes waiting or its Redis unreachable; those votes are never counted" };
        var command = new Command("retire", "forget a front end that is gone for good, once its stream is drained") { frontend, force };
        command.SetAction((parse, _) => RunAsync(parse.GetValue(frontend)!, parse.GetValue(force)));
        return command;
    }

    private static async Task<int> RunAsync(string frontend, bool force)
    {
        var system = new LocalSystem(LocalSettings.FromEnvironment(), Console.Out);
        var worker = system.Components().FirstOrDefault(c => c.Kind is ComponentKind.Worker && c.Process.IsAlive())
            ?? throw new CliException("no worker silo runs: the registry lives in the worker tier");
        using var http = system.ManagementClient(TimeSpan.FromSeconds(15));
        var management = worker.ManagementUrl ?? throw new CliException($"{worker.Name} was started without a management port: ./voting stop {worker.Name} and start it again");
        HttpResponseMessage response;
        try
        {
            response = await http.DeleteAsync(new Uri(management, $"api/frontends/{Uri.EscapeDataString(frontend)}?force={(force ? "true" : "false")}"));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw new CliException($"{worker.Name} did not answer: {e.Message}");
        }

        using (response)
        {
            var detail = await DetailAsync(response);
            Console.Out.WriteLine(detail);
            if (!response.IsSuccessStatusCode)
            {
                return VotingCommandLine.Failed;
            }
        }

        var redis = ComponentRecord.ParseIndexed(frontend) is (ComponentKind.Frontend, var index) ? ComponentRecord.NameOf(ComponentKind.Redis, index) : null;
        if (redis is not null && system.Find(redis) is not null && !system.IsRunning(frontend))
        {
            await system.StopAsync(frontend);
            await system.StopAsync(redis);
            Console.Out.WriteLine($"{redis} stopped; its data stays in {Path.Combine(system.Settings.Data, redis)}.");
        }

        return 0;
    }

    /// <summary>The registry's answer: a problem's or result's <c>detail</c>.</summary>
    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            if (body.ValueKind is JsonValueKind.Object && body.TryGetProperty("detail", out var detail) && detail.GetString() is { } text)
            {
                return text;
            }
        }
        catch (JsonException)
        {
            // Not JSON: say what came back.
        }

        return $"{(int)response.StatusCode} {response.ReasonPhrase}";
    }
}
