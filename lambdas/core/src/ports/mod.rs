//! Ports: the small traits handlers depend on. Adapters implement them for real services
//! (Eskom, EskomSePush, DynamoDB, ...) and for tests (in-memory).

mod messenger;
mod store;
mod upstream;
mod workflow;

pub use messenger::{
    InlineButton, InlineKeyboard, InvalidCallbackData, Message, Messenger, PAID_UNSUPPORTED,
    SendError, Sent, TextFormat,
};
pub use store::{
    ChannelStore, ChatSettingsStore, Claim, DeliveryKey, DeliveryLedger, Leases, ScheduleStore,
    StageRefresh, StageStore, StageWrite, Store, StoredChange, StoredStage, SubscriptionStore,
    refuse_oversized, refuse_oversized_link,
};
pub use upstream::{AreaSearch, ScheduleSource, StageSource};
pub use workflow::{
    ExecutionName, InvalidExecutionName, StartOutcome, WorkflowError, WorkflowStarter,
};
