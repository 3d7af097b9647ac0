using System.Diagnostics.CodeAnalysis;
using GracefulHosting;
using GracefulHosting.Child.Warmup;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds warm-up hooks that a new generation runs before it reports ready.</summary>
public static class GracefulRestartWarmupServiceCollectionExtensions
{
    /// <summary>
    /// Adds a warm-up hook: <paramref name="warmup"/> runs in each new generation before it reports
    /// ready, with the services of a scope of its own (resolve a <c>DbContext</c> from them).
    /// See <see cref="IGracefulRestartWarmup"/> for where and when it runs.
    /// </summary>
    /// <param name="services">The services of the host.</param>
    /// <param name="warmup">The work: it gets the scope's services and a token cancelled when the time is up.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddGracefulRestartWarmup(this IServiceCollection services, Func<IServiceProvider, CancellationToken, Task> warmup)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(warmup);
        services.AddTransient<IGracefulRestartWarmup>(sp => new DelegateWarmup(sp, warmup));
        return services;
    }

    /// <summary>
    /// Adds a warm-up hook of type <typeparamref name="TWarmup"/>, created from a scope of its own in each
    /// new generation before it reports ready. See <see cref="IGracefulRestartWarmup"/>.
    /// </summary>
    /// <typeparam name="TWarmup">The hook; its constructor may take scoped services.</typeparam>
    /// <param name="services">The services of the host.</param>
    /// <returns>The same service collection.</returns>
    public static IServiceCollection AddGracefulRestartWarmup<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TWarmup>(this IServiceCollection services)
        where TWarmup : class, IGracefulRestartWarmup
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddTransient<IGracefulRestartWarmup, TWarmup>();
        return services;
    }
}
