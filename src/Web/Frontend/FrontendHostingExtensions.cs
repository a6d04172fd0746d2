using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Dashboard;
using StackExchange.Redis;
using Voting.Clustering;
using Voting.Storage.Streams;
using Voting.ServiceDefaults.Configuration;
using Voting.ServiceDefaults.Edge;
using Voting.ServiceDefaults.Health;
using Voting.ServiceDefaults.Voting;
using Voting.Web.Abuse;
using Voting.Web.Overload;
using Voting.Web.Poll;
using Voting.Web.Receipts;
using Voting.Web.Voting;

namespace Voting.Web.Frontend;

public static partial class FrontendHostingExtensions
{
    /// <summary>
    /// A vote front end: its own Redis, the vote page and API, a co-hosted web silo (which hosts no worker grains),
    /// and its registration with the cluster.
    /// </summary>
    public static IHostApplicationBuilder AddVotingFrontend(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<FrontendOptions>()
            .BindConfiguration(FrontendOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.Id), SettingsValidation.Missing("Frontend:Id", "Name this front end, e.g. frontend01."))
            .Validate(o => string.IsNullOrWhiteSpace(o.Id) || FrontendIdPattern().IsMatch(o.Id),
                SettingsValidation.Invalid("Frontend:Id", "may hold only letters, digits, '-' and '_' (at most 64)."))
            .Validate(o => !string.IsNullOrWhiteSpace(o.Redis), SettingsValidation.Missing("Frontend:Redis", "This front end's own Redis, e.g. 127.0.0.1:6379."))
            .Validate(o => !RedisEndpoint.HoldsCredentials(o.Redis),
                SettingsValidation.Invalid("Frontend:Redis", "must not hold a user or password (it is logged and registered with the cluster): use Frontend:RedisUser and Frontend:RedisPassword."))
            .Validate(o => !RedisEndpoint.HoldsCredentials(o.RedisAdvertisedEndpoint),
                SettingsValidation.Invalid("Frontend:RedisAdvertisedEndpoint", "must not hold a user or password (it is registered with the cluster): the drainers have credentials of their own."))
            .Validate(o => string.IsNullOrEmpty(o.RedisUser) || !string.IsNullOrEmpty(o.RedisPassword),
                SettingsValidation.Missing("Frontend:RedisPassword", "Frontend:RedisUser is set: give its password too."))
            .Validate(o => string.IsNullOrEmpty(o.RedisPassword) || !string.IsNullOrEmpty(o.RedisUser),
                SettingsValidation.Missing("Frontend:RedisUser", "Frontend:RedisPassword is set: name the ACL user it belongs to."))
            .Validate(o => !string.IsNullOrWhiteSpace(o.StreamKey), SettingsValidation.Missing("Frontend:StreamKey"))
            .Validate(o => o.MaxRequestBodyBytes is >= 64 and <= 65536, SettingsValidation.Invalid("Frontend:MaxRequestBodyBytes", "must be between 64 and 65536."))
            .Validate(o => o.RedisTimeout > TimeSpan.Zero, SettingsValidation.Invalid("Frontend:RedisTimeout", "must be positive."))
            .Validate(o => string.IsNullOrWhiteSpace(o.AdvertisedUrl) || o.EffectiveAdvertisedUrl(urls: null) is not null,
                SettingsValidation.Invalid("Frontend:AdvertisedUrl", "must be an absolute http:// or https:// URL naming a host, e.g. http://frontend01:8080/."))
            .Validate<IConfiguration>((o, configuration) => !string.IsNullOrWhiteSpace(o.AdvertisedUrl) || o.EffectiveAdvertisedUrl(configuration["Urls"]) is not null,
                SettingsValidation.Missing("Frontend:AdvertisedUrl",
                    "Load balancers need this front end's address, e.g. http://frontend01:8080/; it may be left out only when Urls names a host (not +, * or 0.0.0.0)."))
            .ValidateOnStart();
        services.AddOptions<VoterCookieOptions>()
            .BindConfiguration(VoterCookieOptions.SectionName)
            .Validate(o => !string.IsNullOrWhiteSpace(o.SigningKey),
                SettingsValidation.Missing("VoterCookie:SigningKey", "Use the same base64 key (32 bytes or more) on every front end, e.g. from `openssl rand -base64 32`."))
            .Validate(o => string.IsNullOrWhiteSpace(o.SigningKey) || KeyLength(o.SigningKey) >= 32,
                SettingsValidation.Invalid("VoterCookie:SigningKey", "must be base64 of at least 32 bytes."))
            .Validate(o => !string.IsNullOrWhiteSpace(o.Name), SettingsValidation.Missing("VoterCookie:Name"))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<VoterCookieOptions>, VerifyingKeysValidation>();
        services.AddOptions<ForensicsOptions>()
            .BindConfiguration(ForensicsOptions.SectionName)
            .Validate(o => string.IsNullOrWhiteSpace(o.Secret) || KeyLength(o.Secret) >= 32,
                SettingsValidation.Invalid("Forensics:Secret", "must be base64 of at least 32 bytes (or be left out: it is then derived from VoterCookie:SigningKey)."))
            .ValidateOnStart();

        services.AddSingleton(BallotOptions.FromConfiguration(builder.Configuration));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IConnectionMultiplexer>(provider => ConnectRedis(provider.GetRequiredService<IOptions<FrontendOptions>>().Value));
        services.AddSingleton<VoteIdGenerator>();
        services.AddSingleton<VoterCookies>();
        services.AddSingleton<ForensicHasher>();
        services.AddOptions<IdentityChallengeOptions>()
            .BindConfiguration(IdentityChallengeOptions.SectionName)
            .Validate(o => o.Difficulty is >= IdentityChallengeOptions.MinDifficulty and <= IdentityChallengeOptions.MaxDifficulty,
                SettingsValidation.Invalid("Challenge:Difficulty",
                    $"must be {IdentityChallengeOptions.MinDifficulty} to {IdentityChallengeOptions.MaxDifficulty} leading zero bits (16: about 65,000 hashes)."))
            .Validate(o => o.Lifetime >= TimeSpan.FromSeconds(10) && o.Lifetime <= TimeSpan.FromHours(1),
                SettingsValidation.Invalid("Challenge:Lifetime", "must be from 10 s to an hour."))
            .ValidateOnStart();
        services.AddSingleton<ProofOfWork>();
        services.AddVotingPollOptions();
        services.AddSingleton<PollScheduleCopy>();
        services.AddHostedService(provider => provider.GetRequiredService<PollScheduleCopy>());
        services.AddSingleton<VoteRecorder>();
        services.AddOptions<ReceiptOptions>().BindConfiguration(ReceiptOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReceiptOptions>, ReceiptOptions.Validation>();
        services.AddSingleton<VoteReceipts>();
        services.AddSingleton(provider => new VotePage(
            provider.GetRequiredService<BallotOptions>(), provider.GetRequiredService<IOptions<FrontendOptions>>().Value.Id,
            provider.GetRequiredService<VoteReceipts>().ReceiptPage));

        services.Configure<FormOptions>(o =>
        {
            o.ValueCountLimit = 16;
            o.KeyLengthLimit = 64;
        });
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, VotingJsonContext.Default));
        services.AddProblemDetails();
        builder.AddVotingForwardedHeaders();
        builder.AddVotingEdgeLimits();
        builder.AddVotingHttpsRequirement();
        builder.AddVotingOverloadProtection();
        builder.AddVotingClientLimits();
        services.AddSingleton<RegistrationRefusal>();
        services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", tags: [HealthEndpoints.ReadyTag], timeout: HealthEndpoints.CheckTimeout)
            .AddCheck<RegistrationHealthCheck>("registration", tags: [HealthEndpoints.ReadyTag])
            .AddCheck<PollHealthCheck>("poll", tags: [HealthEndpoints.ReadyTag]);

        builder.UseOrleans(silo =>
        {
            silo.UseVotingCluster(builder.Configuration, SiloRole.Web);
            // Every silo collects the dashboard's data (section Dashboard, as on the worker silos, which show it).
            silo.AddDashboard(dashboard => builder.Configuration.GetSection("Dashboard").Bind(dashboard));
        });
        services.AddHostedService<FrontendRegistration>();
        return builder;
    }

    public static WebApplication UseVotingFrontend(this WebApplication app)
    {
        // The client's address from the balancer's X-Forwarded-For (trusted proxies only): the limits key on it.
        app.UseVotingForwardedHeaders();
        // Unexpected failures become a problem response without internals; bad input never reaches this point.
        app.UseExceptionHandler();
        // Read when the first request comes, after the settings were validated at start-up.
        var frontend = new Lazy<FrontendOptions>(() => app.Services.GetRequiredService<IOptions<FrontendOptions>>().Value);
        app.Use((context, next) =>
        {
            // A vote is a few bytes: anything larger is refused with 413 while it is being read.
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
            {
                bodySize.MaxRequestBodySize = frontend.Value.MaxRequestBodyBytes;
            }

            var headers = context.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
            headers.CacheControl = "no-store";
            return next(context);
        });
        // With the headers above: plain HTTP is refused where HTTPS is required, and cookies held to the cookie policy.
        app.UseVotingHttpsRequirement();
        // After the headers above, so that a shed or limited request carries them too: the per-client limits (429),
        // then the concurrency limit (503).
        app.UseVotingOverloadProtection();
        return app;
    }

    private static ConnectionMultiplexer ConnectRedis(FrontendOptions frontend)
    {
        var configuration = ConfigurationOptions.Parse(frontend.Redis);
        // The ACL user may append to its stream and little else (docs/SECURITY.md): no Pub/Sub, so no configuration
        // channel, and no tie-breaker key to read.
        configuration.User = frontend.RedisUser;
        configuration.Password = frontend.RedisPassword;
        configuration.ConfigurationChannel = "";
        configuration.TieBreaker = "";
        // Start even when Redis is down (and report not ready); while it is unreachable, votes fail at once with a
        // 503 instead of queueing in memory where a crash would lose them.
        configuration.AbortOnConnectFail = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.AsyncTimeout = (int)frontend.RedisTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)frontend.RedisTimeout.TotalMilliseconds;
        configuration.ConnectTimeout = (int)frontend.RedisTimeout.TotalMilliseconds;
        configuration.ClientName = "voting-" + frontend.Id;
        // For INFO memory in the readiness check (RedisHealthCheck), which StackExchange.Redis counts as an admin
        // command; the front end sends no other (and its ACL user may run no other).
        configuration.AllowAdmin = true;
        return ConnectionMultiplexer.Connect(configuration);
    }

    private static int KeyLength(string base64) => VoterCookieOptions.TryDecodeKey(base64)?.Length ?? 0;

    /// <summary>
    /// Each verifying key is usable, and no two configured keys (the signing key among them) share a key id: a cookie
    /// names its key by id, so a duplicate would be ambiguous — and is nearly always the same key listed twice.
    /// </summary>
    private sealed class VerifyingKeysValidation : IValidateOptions<VoterCookieOptions>
    {
        public ValidateOptionsResult Validate(string? name, VoterCookieOptions options)
        {
            var failures = new List<string>();
            var ids = new Dictionary<string, string>(StringComparer.Ordinal);
            if (VoterCookieOptions.TryDecodeKey(options.SigningKey) is { Length: >= 32 } signing)
            {
                ids[VoterCookieOptions.KeyIdOf(signing)] = "VoterCookie:SigningKey";
            }

            for (var i = 0; i < options.VerifyingKeys.Count; i++)
            {
                var setting = $"VoterCookie:VerifyingKeys:{i}";
                if (VoterCookieOptions.TryDecodeKey(options.VerifyingKeys[i]) is not { Length: >= 32 } key)
                {
                    failures.Add(SettingsValidation.Invalid(setting, "must be base64 of at least 32 bytes (a key that signed voter cookies before)."));
                }
                else if (!ids.TryAdd(VoterCookieOptions.KeyIdOf(key), setting))
                {
                    failures.Add(SettingsValidation.Invalid(setting,
                        $"has the key id {VoterCookieOptions.KeyIdOf(key)} of {ids[VoterCookieOptions.KeyIdOf(key)]}: the same key is listed twice."));
                }
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex FrontendIdPattern();
}
