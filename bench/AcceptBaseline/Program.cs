using StackExchange.Redis;

// Kestrel answering POST /api/votes with 202 after one XADD of a fixed five-field entry: the least any front end
// must do per vote. ./bench/accept.sh runs it next to the real front end so that their ratio can be compared.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var redis = await ConnectionMultiplexer.ConnectAsync(builder.Configuration["Redis"] ?? throw new InvalidOperationException("Redis is not set (e.g. --Redis 127.0.0.1:6381)."));
var database = redis.GetDatabase();
NameValueEntry[] fields = [new("id", "0"), new("voter", "0"), new("option", "a"), new("ts", "0"), new("fe", "baseline")];
RedisKey stream = "baseline-votes";

var app = builder.Build();
app.MapPost("/api/votes", async () =>
{
    await database.StreamAddAsync(stream, fields, maxLength: 100_000, useApproximateMaxLength: true);
    return Results.StatusCode(StatusCodes.Status202Accepted);
});
app.Run();
