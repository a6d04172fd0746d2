using System.Text.Json.Serialization;
using Voting.Results.Pipeline;
using Voting.Results.Poll;

namespace Voting.Results.Tallies;

/// <summary>The results app's JSON, source-generated: the API's answers and the event stream's data.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ResultsSnapshot))]
[JsonSerializable(typeof(PipelineSnapshot))]
[JsonSerializable(typeof(PublicPipelineSnapshot))]
[JsonSerializable(typeof(Embargo))]
internal sealed partial class ResultsJsonContext : JsonSerializerContext;
