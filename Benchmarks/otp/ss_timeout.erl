%% A gen_statem that arms one state timeout at start and, when it fires, can report how late it ran: the OTP
%% side of machines_100k_* ({after_ms, 1000}, no collector) and timeouts_100k_* ({at_ms, Deadline}, a collector).
-module(ss_timeout).
-behaviour(gen_statem).
-export([start/2, init/1, callback_mode/0, handle_event/4]).

%% Timeout: {after_ms, Ms} (relative) or {at_ms, DeadlineMs} (absolute erlang:monotonic_time(millisecond));
%% Collector: a pid that gets {late, Microseconds} when the timeout fires, or none.
start(Timeout, Collector) -> gen_statem:start(?MODULE, {Timeout, Collector}, []).

callback_mode() -> handle_event_function.

init({{after_ms, Ms}, Collector}) ->
    {ok, waiting, {none, Collector}, [{state_timeout, Ms, fire}]};
init({{at_ms, DeadlineMs}, Collector}) ->
    {ok, waiting, {DeadlineMs, Collector}, [{state_timeout, DeadlineMs, fire, [{abs, true}]}]}.

handle_event(state_timeout, fire, waiting, {DeadlineMs, Collector} = D) when is_pid(Collector) ->
    %% The handler reads the clock itself: lateness is deadline -> handler running (as on the Swift side).
    Collector ! {late, erlang:monotonic_time(microsecond) - DeadlineMs * 1000},
    {next_state, done, D};
handle_event(state_timeout, fire, waiting, D) -> {next_state, done, D};
handle_event(_, _, _, D) -> {keep_state, D}.
