%% A gen_statem that postpones every cast while locked; unlock replays them all: postpone_1000_replay.
-module(ss_postpone).
-behaviour(gen_statem).
-export([start/0, init/1, callback_mode/0, handle_event/4]).

start() -> gen_statem:start(?MODULE, [], []).

callback_mode() -> handle_event_function.

init([]) -> {ok, locked, 0}.

handle_event(cast, unlock, locked, N) -> {next_state, open, N};
handle_event(cast, item, locked, _N) -> {keep_state_and_data, [postpone]};
handle_event(cast, item, open, N) -> {keep_state, N + 1};
handle_event({call, From}, get, _S, N) -> {keep_state_and_data, [{reply, From, N}]}.
