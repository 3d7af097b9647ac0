using GracefulHosting;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Marks endpoints whose responses stay open for long.</summary>
public static class LongLivedEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Marks the endpoints as long-lived (<see cref="LongLivedAttribute"/>): when a generation drains,
    /// their open responses are ended early so that clients come back to the new generation.
    /// </summary>
    /// <typeparam name="TBuilder">The endpoint convention builder.</typeparam>
    /// <param name="builder">The endpoints to mark.</param>
    /// <returns>The same builder.</returns>
    public static TBuilder WithLongLived<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.WithMetadata(new LongLivedAttribute());
    }
}
