using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;
using Voting.Sealing.Postgres;
using Voting.ServiceDefaults.Voting;

namespace Voting.Silo.Sealing;

public static class SealingHostingExtensions
{
    /// <summary>
    /// Sealing on this worker (section <c>Poll</c>, <see cref="SealingOptions"/>): the keys are read and checked now,
    /// while the host is built, so a missing or bad one stops the worker naming the setting.
    /// </summary>
    public static IHostApplicationBuilder AddVotingSealing(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetSection(SealingOptions.SectionName).Get<SealingOptions>() ?? new SealingOptions();
        var keys = options.LoadKeys();
        builder.Services.AddSingleton(options);
        // The options the manifest states: the same OPTION_A, OPTION_B, ... the front ends offer.
        builder.Services.TryAddSingleton(BallotOptions.FromConfiguration(builder.Configuration));
        builder.Services.TryAddSingleton(TimeProvider.System);
        if (keys is var (signing, pseudonyms))
        {
            builder.Services.AddSingleton(signing);
            builder.Services.AddSingleton(services => new Sealer(
                services.GetRequiredService<NpgsqlDataSource>(), pseudonyms, signing, services.GetRequiredService<TimeProvider>()));
        }

        builder.Services.AddSingleton(services => new PollSealing(
            services.GetRequiredService<IGrainFactory>(), services.GetRequiredService<IOptions<PollOptions>>().Value, options,
            services.GetRequiredService<BallotOptions>(),
            services.GetRequiredService<TimeProvider>(), services.GetService<Sealer>()));
        return builder;
    }
}
