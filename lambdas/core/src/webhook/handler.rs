//! Turning one update into replies and effects, through the ports only (no HTTP, no AWS).
//!
//! Redelivery: Telegram sends an update again when it did not get our 200, and then it did not
//! perform the reply in that response either. So each reply is produced again, and every effect is
//! idempotent on its own: subscribing twice keeps one subscription, and a refresh starts its
//! execution by a name taken from the update, which Step Functions accepts once. The `/refresh`
//! cooldown is claimed in the update's name, so a redelivery finds it its own, not "already
//! refreshing", and one conditional write decides both.
//!
//! Time: Telegram waits for our answer, and an invocation that times out answers 5xx, which
//! Telegram redelivers again and again. So every call out (search, workflow, Telegram) has
//! [`WebhookSettings::call_budget`], the whole update [`WebhookSettings::update_budget`], both well
//! inside the Lambda timeout; past them the user is asked to try again and Telegram gets its 200.
//!
//! Abuse: searches reach upstream, whose quota and firewall the scheduled work shares, so each
//! chat has [`WebhookSettings::searches_per_window`], and a chat follows at most
//! [`WebhookSettings::max_areas_per_chat`] areas.

use std::future::Future;
use std::sync::Arc;

use chrono::{Duration, DurationRound};
use tracing::{debug, error, info, warn};

use crate::adapters::telegram::{AnswerCallbackQuery, ChatInfo, ChatRef, TelegramError};
use crate::clock::Clock;
use crate::domain::{
    Area, ChannelAdmins, ChannelLink, ChatId, Forecast, ReminderLead, Stage, Timelines,
};
use crate::errors::{ErrorName, Named, StoreError};
use crate::notify::Forecasts;
use crate::notify::render::{self, AreaOutlook};
use crate::ports::{
    AreaSearch, InlineButton, InlineKeyboard, Message, Messenger, StartOutcome, Store, StoredStage,
    WorkflowStarter,
};
use crate::site::SiteLinks;

use super::bot_api::CallbackAnswers;
use super::callback::{AreaRef, CallbackAction};
use super::channels::{self, ChannelLookup, NotPostable};
use super::command::{self, Addressed};
use super::links;
use super::refresh::{RefreshInput, execution_name};
use super::reply::Reply;
use super::texts;
use super::update::{
    CallbackQuery, ChatKind, ChatMemberUpdated, Message as TgMessage, Update, User,
};

/// What the webhook needs to know besides its ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// The bot's username, to tell `/cmd@ThisBot` from `/cmd@OtherBot`.
    pub bot_username: String,
    /// How long after a `/refresh` the chat is answered "already refreshing" instead.
    pub refresh_cooldown: Duration,
    /// How many matches `/subscribe` offers.
    pub search_limit: usize,
    /// The longest search text accepted, in characters.
    pub search_max_chars: usize,
    /// Each call out (area search, StartExecution, Telegram) gives up after this.
    pub call_budget: std::time::Duration,
    /// One update, all calls included, gives up after this: well inside the Lambda timeout (15 s in
    /// `infra/template.yaml`), so the user hears "try again" and Telegram gets its 200.
    pub update_budget: std::time::Duration,
    /// Upstream searches (a `/subscribe`, or a tap, which searches again) one chat may make per
    /// [`Self::search_window`].
    pub searches_per_window: u32,
    pub search_window: Duration,
    /// Upstream searches all chats together may make per day (Johannesburg time): what a flood of
    /// chats can cost Eskom's firewall's patience or EskomSePush's allowance, whoever sends it.
    pub searches_per_day: u32,
    /// The most areas one chat may follow.
    pub max_areas_per_chat: usize,
    /// The web pages' address, for the links of `/status` and `/calendar`; none: no links.
    pub site: Option<SiteLinks>,
    /// Who may link channels to areas (`/channel`): the sender's user id, or the chat's id (every
    /// member of a listed group may). Empty: nobody.
    pub channel_admins: ChannelAdmins,
}

impl WebhookSettings {
    pub const DEFAULT_REFRESH_COOLDOWN_SECONDS: i64 = 60;

    pub fn new(bot_username: impl Into<String>) -> Self {
        WebhookSettings {
            bot_username: bot_username.into().trim_start_matches('@').to_owned(),
            refresh_cooldown: Duration::seconds(Self::DEFAULT_REFRESH_COOLDOWN_SECONDS),
            search_limit: 8,
            search_max_chars: 64,
            call_budget: std::time::Duration::from_secs(5),
            update_budget: std::time::Duration::from_secs(10),
            searches_per_window: 10,
            search_window: Duration::hours(1),
            searches_per_day: 500,
            max_areas_per_chat: 10,
            site: None,
            channel_admins: ChannelAdmins::default(),
        }
    }

    pub fn with_channel_admins(mut self, admins: ChannelAdmins) -> Self {
        self.channel_admins = admins;
        self
    }

    /// Whether `user`, writing in `chat`, may link channels.
    fn may_link_channels(&self, user: Option<User>, chat: ChatId) -> bool {
        user.is_some_and(|user| self.channel_admins.allows(user.id))
            || self.channel_admins.allows(chat.0)
    }

    pub fn with_site(mut self, site: Option<SiteLinks>) -> Self {
        self.site = site;
        self
    }

    pub fn with_refresh_cooldown(mut self, cooldown: Duration) -> Self {
        self.refresh_cooldown = cooldown;
        self
    }
}

/// The store failed in a way a later delivery of the same update may not: the HTTP layer answers
/// 5xx so Telegram redelivers, which is safe because every effect is idempotent.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("store unavailable while handling update {update_id}: {source}")]
    StoreUnavailable {
        update_id: i64,
        #[source]
        source: StoreError,
    },
}

impl Named for WebhookError {
    fn error_name(&self) -> ErrorName {
        match self {
            WebhookError::StoreUnavailable { .. } => ErrorName::StoreUnavailable,
        }
    }
}

/// Everything the webhook talks to.
#[derive(Clone)]
pub struct WebhookPorts {
    pub clock: Arc<dyn Clock>,
    pub store: Arc<dyn Store>,
    pub search: Arc<dyn AreaSearch>,
    pub workflow: Arc<dyn WorkflowStarter>,
    /// For replies longer than one message, which cannot all ride in the response.
    pub messenger: Arc<dyn Messenger>,
    pub answers: Arc<dyn CallbackAnswers>,
    /// `getChat` and `getChatMember`, for `/channel`.
    pub channels: Arc<dyn ChannelLookup>,
}

/// Answers updates. Build once at start; it holds only shared handles.
#[derive(Clone)]
pub struct Webhook {
    settings: WebhookSettings,
    ports: WebhookPorts,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// A failure inside one command, before it becomes either an apology or a redelivery.
enum Failure {
    /// Redelivery can help: the store could not be reached.
    Retry(StoreError),
    /// Tell the user and log; redelivery cannot help (or would stall the bot for a flaky upstream).
    Apologise { name: ErrorName, detail: String },
}

impl From<StoreError> for Failure {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Unavailable(_) => Failure::Retry(err),
            // Redelivering a request the store refuses as such would only be refused again.
            StoreError::Corrupt { .. } | StoreError::Misconfigured(_) | StoreError::Invalid(_) => {
                Failure::Apologise {
                    name: err.error_name(),
                    detail: err.to_string(),
                }
            }
        }
    }
}

/// The reply to put in the response, if any.
type Handled = Result<Option<Reply>, Failure>;

fn send(chat: ChatId, message: Message) -> Handled {
    Ok(Some(Reply::Send {
        chat,
        message,
        reply_to: None,
    }))
}

fn say(chat: ChatId, text: String) -> Handled {
    send(chat, Message::plain(text))
}

fn answer(query: &CallbackQuery, text: String) -> Handled {
    Ok(Some(Reply::AnswerCallback(
        AnswerCallbackQuery::new(&query.id).with_text(text),
    )))
}

impl Webhook {
    pub fn new(settings: WebhookSettings, ports: WebhookPorts) -> Self {
        Webhook { settings, ports }
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// Handles one update; the reply (if any) belongs in the HTTP response body.
    pub async fn handle(&self, update: &Update) -> Result<Option<Reply>, WebhookError> {
        let budget = self.settings.update_budget;
        let Ok(handled) = tokio::time::timeout(budget, self.dispatch(update)).await else {
            warn!(
                update_id = update.update_id,
                budget_ms = budget.as_millis() as u64,
                "update given up on: over its time budget"
            );
            return Ok(reply_to(update, texts::too_slow()));
        };
        match handled {
            Ok(reply) => Ok(reply),
            Err(Failure::Retry(source)) => Err(WebhookError::StoreUnavailable {
                update_id: update.update_id,
                source,
            }),
            Err(Failure::Apologise { name, detail }) => {
                error!(update_id = update.update_id, error_name = %name, %detail, "update failed");
                Ok(reply_to(update, texts::something_failed()))
            }
        }
    }

    async fn dispatch(&self, update: &Update) -> Handled {
        if let Some(message) = &update.message {
            self.on_message(update.update_id, message).await
        } else if let Some(query) = &update.callback_query {
            self.on_callback(query).await
        } else if let Some(member) = &update.my_chat_member {
            self.on_membership(member).await
        } else {
            debug!(
                update_id = update.update_id,
                "update of a kind we do not handle"
            );
            Ok(None)
        }
    }

    /// `call` within [`WebhookSettings::call_budget`]; `None` when it ran out.
    async fn within_budget<T>(
        &self,
        what: &'static str,
        call: impl Future<Output = T>,
    ) -> Option<T> {
        let budget = self.settings.call_budget;
        let result = tokio::time::timeout(budget, call).await.ok();
        if result.is_none() {
            warn!(
                call = what,
                budget_ms = budget.as_millis() as u64,
                "call given up on: over its time budget"
            );
        }
        result
    }

    /// An upstream search for `chat`, within the chat's allowance and the call budget. `Err` holds
    /// what to tell the user.
    async fn search(&self, chat: ChatId, text: &str) -> Result<Result<Vec<Area>, String>, Failure> {
        let now = self.ports.clock.now();
        let window = self.settings.search_window;
        let start = now.duration_trunc(window).unwrap_or(now);
        let key = format!("searches:{chat}:{}", start.timestamp());
        let allowed = self
            .ports
            .store
            .try_take(&key, self.settings.searches_per_window, now, start + window)
            .await?;
        if !allowed {
            info!(%chat, "search refused: the chat's searches for this window are used up");
            return Ok(Err(texts::too_many_searches(
                self.settings.searches_per_window,
                window.num_minutes(),
            )));
        }
        let today = now.with_timezone(&crate::clock::ZONE).date_naive();
        let allowed = self
            .ports
            .store
            .try_take(
                &format!("searches:all:{today}"),
                self.settings.searches_per_day,
                now,
                now + Duration::days(2),
            )
            .await?;
        if !allowed {
            warn!(%chat, "search refused: today's searches for all chats are used up");
            return Ok(Err(texts::search_quota_used()));
        }
        let search = self.ports.search.search(text, self.settings.search_limit);
        match self.within_budget("search", search).await {
            Some(Ok(areas)) => Ok(Ok(areas)),
            Some(Err(err)) => {
                warn!(%chat, error_name = %err.error_name(), error = %err, "area search failed");
                Ok(Err(match err.error_name() {
                    ErrorName::UpstreamQuotaExceeded => texts::search_quota_used(),
                    _ => texts::search_failed(),
                }))
            }
            None => Ok(Err(texts::search_failed())),
        }
    }

    async fn on_message(&self, update_id: i64, message: &TgMessage) -> Handled {
        let chat = ChatId(message.chat.id);
        if let Some(to) = message.migrate_to_chat_id {
            let moved = self
                .ports
                .store
                .move_chat(chat, ChatId(to), self.ports.clock.now())
                .await?;
            info!(from = %chat, to, moved, "group became a supergroup: subscriptions moved");
            return Ok(None);
        }
        if message.chat.kind == ChatKind::Channel {
            return Ok(None);
        }
        let private = message.chat.kind == ChatKind::Private;
        let (name, args, mentioned) = match command::parse(message, &self.settings.bot_username) {
            Addressed::Command {
                name,
                args,
                mentioned,
            } => (name, args, mentioned),
            Addressed::OtherBot => return Ok(None),
            // In a group the bot may see all talk (privacy mode off); only a private chat is
            // talking to us.
            Addressed::NotACommand if private => return say(chat, texts::unknown_command()),
            Addressed::NotACommand => return Ok(None),
        };
        debug!(update_id, %chat, command = %name, "command");
        match name.as_str() {
            "start" | "help" => say(chat, texts::help()),
            "subscribe" => self.subscribe_search(chat, message.message_id, &args).await,
            "unsubscribe" => self.unsubscribe_list(chat).await,
            "status" => self.status(chat).await,
            "calendar" => self.calendar(chat).await,
            "refresh" => self.refresh(update_id, chat, message.message_id).await,
            "settings" => self.settings_menu(chat).await,
            "channel" => self.channel_command(chat, message, &args).await,
            "unchannel" => self.channel_off(chat, message.from, &args).await,
            // A bare `/cmd` in a group may be for another bot there.
            _ if private || mentioned => say(chat, texts::unknown_command()),
            _ => Ok(None),
        }
    }

    async fn subscribe_search(&self, chat: ChatId, message_id: i64, query: &str) -> Handled {
        if query.is_empty() {
            return say(chat, texts::subscribe_how());
        }
        if query.chars().count() > self.settings.search_max_chars {
            let text = texts::search_too_long(self.settings.search_max_chars);
            return say(chat, text);
        }
        let areas = match self.search(chat, query).await? {
            Ok(areas) => areas,
            Err(text) => return say(chat, text),
        };
        if areas.is_empty() {
            return say(chat, texts::no_matches(query));
        }
        let keyboard = keyboard(&areas, "", CallbackAction::subscribe);
        let mut text = texts::pick_area(query);
        let mut with_channels = Vec::new();
        for area in &areas {
            let channels = self.channels_shown(area).await;
            if !channels.is_empty() {
                with_channels.push((area, channels));
            }
        }
        if !with_channels.is_empty() {
            text.push_str("\n\n");
            text.push_str(&texts::listed_channels(&with_channels));
        }
        Ok(Some(Reply::Send {
            chat,
            message: Message::plain(text).with_keyboard(keyboard),
            // A tap reads the search back from the message this list answers.
            reply_to: Some(message_id),
        }))
    }

    async fn unsubscribe_list(&self, chat: ChatId) -> Handled {
        let areas = self.ports.store.areas_of(chat).await?;
        if areas.is_empty() {
            return say(chat, texts::no_subscriptions());
        }
        let keyboard = keyboard(&areas, "✖ ", CallbackAction::unsubscribe);
        send(
            chat,
            Message::plain(texts::pick_unsubscribe()).with_keyboard(keyboard),
        )
    }

    async fn status(&self, chat: ChatId) -> Handled {
        let store = &self.ports.store;
        let areas = store.areas_of(chat).await?;
        let stage = store.current_stage().await?;
        let now = self.ports.clock.now();
        let timelines = stage.as_ref().map_or_else(
            || Timelines::national_only(Stage::NONE),
            StoredStage::timelines,
        );
        let forecasts = Forecasts::load(store.as_ref(), &areas, &[&timelines], now).await?;
        let forecasts: Vec<Forecast> = areas.iter().map(|a| forecasts.of(a, &timelines)).collect();
        let outlooks: Vec<AreaOutlook<'_>> = areas
            .iter()
            .zip(&forecasts)
            .map(|(area, forecast)| AreaOutlook { area, forecast })
            .collect();
        let mut parts = render::status(stage.as_ref(), &outlooks, now);
        if let Some(site) = &self.settings.site {
            links::append_page_links(&mut parts, site, &areas);
        }
        self.send_parts(chat, parts).await
    }

    /// The last part rides in the response; the response body is performed after we answer, so
    /// earlier parts go first, directly.
    async fn send_parts(&self, chat: ChatId, mut parts: Vec<Message>) -> Handled {
        let last = parts.pop();
        for part in &parts {
            match self
                .within_budget("sendMessage", self.ports.messenger.send(chat, part))
                .await
            {
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    error!(%chat, error_name = %err.error_name(), error = %err, "status part not sent");
                    return say(chat, texts::something_failed());
                }
                None => return say(chat, texts::too_slow()),
            }
        }
        match last {
            Some(message) => send(chat, message),
            None => Ok(None),
        }
    }

    async fn calendar(&self, chat: ChatId) -> Handled {
        let Some(site) = &self.settings.site else {
            return say(chat, texts::no_web_pages());
        };
        let areas = self.ports.store.areas_of(chat).await?;
        if areas.is_empty() {
            return say(chat, texts::no_subscriptions());
        }
        let parts = links::calendar(site, &areas);
        self.send_parts(chat, parts).await
    }

    async fn refresh(&self, update_id: i64, chat: ChatId, message_id: i64) -> Handled {
        let areas = self.ports.store.areas_of(chat).await?;
        if areas.is_empty() {
            return say(chat, texts::refresh_needs_area());
        }
        let now = self.ports.clock.now();
        let cooldown = refresh_cooldown_key(chat);
        let holder = update_holder(update_id);
        // Free, or already ours (a redelivery of this very update): go on. Another update's: wait.
        let ours = self
            .ports
            .store
            .try_claim_for(
                &cooldown,
                &holder,
                now,
                now + self.settings.refresh_cooldown,
            )
            .await?;
        if !ours {
            let text = texts::already_refreshing(self.settings.refresh_cooldown.num_seconds());
            return say(chat, text);
        }
        let invalid = |detail: String| Failure::Apologise {
            name: ErrorName::InvalidInput,
            detail,
        };
        let name = execution_name(update_id).map_err(|e| invalid(e.to_string()))?;
        let input = RefreshInput::new(update_id, chat, message_id, &areas)
            .to_json()
            .map_err(|e| invalid(e.to_string()))?;
        let started = self
            .within_budget("StartExecution", self.ports.workflow.start(&name, &input))
            .await;
        match started {
            Some(Ok(StartOutcome::Started { execution_arn })) => {
                info!(%chat, execution = %name, %execution_arn, "refresh started");
            }
            Some(Ok(StartOutcome::AlreadyExists)) => {
                info!(%chat, execution = %name, "refresh was already started for this update");
            }
            failed => {
                match failed {
                    Some(Err(err)) => {
                        error!(%chat, transient = err.is_transient(), error = %err, "could not start the refresh");
                    }
                    _ => error!(%chat, "could not start the refresh in time"),
                }
                // Nothing is running for the chat, so it may ask again at once. (A start that timed
                // out may still have begun; a second refresh then costs one more run, no harm.)
                self.release_cooldown(&cooldown, &holder).await;
                return say(chat, texts::refresh_failed());
            }
        }
        say(chat, texts::refreshing())
    }

    /// A failed release leaves the cooldown to expire on its own: logged, not fatal.
    async fn release_cooldown(&self, key: &str, holder: &str) {
        if let Err(err) = self.ports.store.release(key, holder).await {
            warn!(key, error_name = %err.error_name(), error = %err, "cooldown not released");
        }
    }

    async fn on_callback(&self, query: &CallbackQuery) -> Handled {
        let Some(action) = query.data.as_deref().and_then(CallbackAction::decode) else {
            debug!(callback = %query.id, "callback data we did not write");
            return answer(query, texts::choice_expired());
        };
        // Absent for buttons on inline-mode messages, which we never send.
        let Some(message) = &query.message else {
            return answer(query, texts::choice_expired());
        };
        match action {
            CallbackAction::Subscribe(area) => self.tap_subscribe(query, message, &area).await,
            CallbackAction::Unsubscribe(area) => self.tap_unsubscribe(query, message, &area).await,
            CallbackAction::Channel(area) => self.tap_channel(query, message, &area).await,
            CallbackAction::ReminderLead(lead) => {
                self.tap_reminder_lead(query, message, lead).await
            }
        }
    }

    /// `/settings`: the chat's reminder lead, and a button for each choice.
    async fn settings_menu(&self, chat: ChatId) -> Handled {
        let settings = self.ports.store.chat_settings(chat).await?;
        let buttons = ReminderLead::CHOICES.into_iter().filter_map(|lead| {
            InlineButton::callback(
                texts::reminder_lead_button(lead, lead == settings.reminder_lead),
                CallbackAction::ReminderLead(lead).encode(),
            )
            .map_err(|err| error!(%lead, error = %err, "button not built"))
            .ok()
        });
        send(
            chat,
            Message::plain(texts::settings(settings.reminder_lead))
                .with_keyboard(InlineKeyboard::row(buttons)),
        )
    }

    /// A tap on a `/settings` button: stored for the chat the menu was sent to (a redelivered tap
    /// stores the same again).
    async fn tap_reminder_lead(
        &self,
        query: &CallbackQuery,
        menu: &TgMessage,
        lead: ReminderLead,
    ) -> Handled {
        let chat = ChatId(menu.chat.id);
        let mut settings = self.ports.store.chat_settings(chat).await?;
        settings.reminder_lead = lead;
        self.ports
            .store
            .put_chat_settings(chat, &settings, self.ports.clock.now())
            .await?;
        info!(%chat, lead = lead.minutes(), "reminder lead set");
        self.answer_first(query, texts::reminder_lead_set(lead))
            .await;
        Ok(Some(Reply::Edit {
            chat,
            message_id: menu.message_id,
            message: Message::plain(texts::reminder_lead_set(lead)),
        }))
    }

    /// A tap on a search result. The search is run again from the `/subscribe` the list answered,
    /// so the area subscribed is one upstream really offers, not whatever the button claims.
    async fn tap_subscribe(
        &self,
        query: &CallbackQuery,
        list: &TgMessage,
        area: &AreaRef,
    ) -> Handled {
        let chat = ChatId(list.chat.id);
        let Some(asked) = list.reply_to_message.as_deref() else {
            return answer(query, texts::choice_expired());
        };
        let search_text = match command::parse(asked, &self.settings.bot_username) {
            Addressed::Command { name, args, .. } if name == "subscribe" && !args.is_empty() => {
                args
            }
            _ => return answer(query, texts::choice_expired()),
        };
        let followed = self.ports.store.areas_of(chat).await?;
        let already = followed.iter().any(|a| area.matches(&a.id));
        if !already && followed.len() >= self.settings.max_areas_per_chat {
            return answer(
                query,
                texts::too_many_areas(self.settings.max_areas_per_chat),
            );
        }
        let found = match self.search(chat, &search_text).await? {
            Ok(found) => found,
            Err(text) => return answer(query, text),
        };
        let Some(chosen) = found.into_iter().find(|a| area.matches(&a.id)) else {
            return answer(query, texts::choice_expired());
        };
        let new = self
            .ports
            .store
            .subscribe(chat, &chosen, self.ports.clock.now())
            .await?;
        info!(%chat, area = %chosen.id, new, "subscribed");
        let mut text = texts::subscribed(&chosen, new);
        let channels: Vec<ChannelLink> = self
            .channels_shown(&chosen)
            .await
            .into_iter()
            .filter(|link| link.channel != chat)
            .collect();
        if !channels.is_empty() {
            text.push_str("\n\n");
            text.push_str(&texts::area_channels(&channels));
        }
        self.answer_first(query, texts::subscribed_toast(&chosen))
            .await;
        Ok(Some(Reply::Edit {
            chat,
            message_id: list.message_id,
            message: Message::plain(text),
        }))
    }

    /// A tap on one of the chat's areas, resolved against what the chat follows now.
    async fn tap_unsubscribe(
        &self,
        query: &CallbackQuery,
        list: &TgMessage,
        area: &AreaRef,
    ) -> Handled {
        let chat = ChatId(list.chat.id);
        let areas = self.ports.store.areas_of(chat).await?;
        let Some(chosen) = areas.into_iter().find(|a| area.matches(&a.id)) else {
            return answer(query, texts::not_subscribed_any_more());
        };
        self.ports.store.unsubscribe(chat, &chosen.id).await?;
        info!(%chat, area = %chosen.id, "unsubscribed");
        self.answer_first(query, texts::unsubscribed_toast(&chosen))
            .await;
        Ok(Some(Reply::Edit {
            chat,
            message_id: list.message_id,
            message: Message::plain(texts::unsubscribed(&chosen)),
        }))
    }

    /// The area's channels to show beside a subscription. Only a pointer: when the store cannot
    /// say, the reply goes without them (logged) rather than failing the subscription itself.
    async fn channels_shown(&self, area: &Area) -> Vec<ChannelLink> {
        match self.ports.store.channels_of(&area.id).await {
            Ok(channels) => channels,
            Err(err) => {
                warn!(area = %area.id, error_name = %err.error_name(), error = %err, "area channels not read: shown without them");
                Vec::new()
            }
        }
    }

    /// `/channel @name <place>`: after the allow-list and Telegram's word that the bot may post to
    /// the channel, the areas matching the place, to tap one. `/channel off @name` unlinks.
    async fn channel_command(&self, chat: ChatId, message: &TgMessage, args: &str) -> Handled {
        if !self.settings.may_link_channels(message.from, chat) {
            info!(%chat, user = message.from.map(|u| u.id), "channel link refused: not on the allow-list");
            return say(chat, texts::channel_not_allowed(message.from.map(|u| u.id)));
        }
        let (first, rest) = split_word(args);
        if first.eq_ignore_ascii_case("off") {
            return self.channel_off(chat, message.from, rest).await;
        }
        if first.is_empty() || rest.is_empty() {
            return say(chat, texts::channel_how());
        }
        let Some(reference) = channels::parse_reference(first) else {
            return say(chat, texts::channel_bad_reference(first));
        };
        if rest.chars().count() > self.settings.search_max_chars {
            return say(chat, texts::search_too_long(self.settings.search_max_chars));
        }
        let channel = match self.postable_channel(&reference).await {
            Ok(channel) => channel,
            Err(text) => return say(chat, text),
        };
        let areas = match self.search(chat, rest).await? {
            Ok(areas) => areas,
            Err(text) => return say(chat, text),
        };
        if areas.is_empty() {
            return say(chat, texts::no_matches(rest));
        }
        let keyboard = keyboard(&areas, "", CallbackAction::channel);
        let text = texts::pick_channel_area(channel.title.as_deref(), channel.id, rest);
        Ok(Some(Reply::Send {
            chat,
            message: Message::plain(text).with_keyboard(keyboard),
            // A tap reads the channel and the search back from the `/channel` this answers.
            reply_to: Some(message.message_id),
        }))
    }

    /// `/channel off @name` (or `/unchannel @name`): drops the channel's links and the
    /// subscriptions they made.
    async fn channel_off(&self, chat: ChatId, from: Option<User>, args: &str) -> Handled {
        if !self.settings.may_link_channels(from, chat) {
            info!(%chat, user = from.map(|u| u.id), "channel unlink refused: not on the allow-list");
            return say(chat, texts::channel_not_allowed(from.map(|u| u.id)));
        }
        let (first, _) = split_word(args);
        if first.is_empty() {
            return say(chat, texts::channel_how());
        }
        let Some(reference) = channels::parse_reference(first) else {
            return say(chat, texts::channel_bad_reference(first));
        };
        // An id needs no lookup: the bot may have been removed from a private channel already.
        let (id, title) = match reference {
            ChatRef::Id(id) => (id, None),
            ChatRef::Username(_) => match self.look_up_channel(&reference).await {
                Ok(info) => (info.id, info.title),
                Err(text) => return say(chat, text),
            },
        };
        // Only the areas it is linked to: an id of a group that subscribed itself is left alone.
        // Each link goes before its subscription, so a retry after a failure finishes the rest.
        let channel = ChatId(id);
        let mut removed = 0;
        for area in self.ports.store.areas_of(channel).await? {
            let linked = self.ports.store.channels_of(&area.id).await?;
            if linked.iter().any(|link| link.channel == channel) {
                self.ports.store.unlink_channel(channel, &area.id).await?;
                self.ports.store.unsubscribe(channel, &area.id).await?;
                removed += 1;
            }
        }
        info!(%chat, channel = id, removed, user = from.map(|u| u.id), "channel unlinked");
        if removed == 0 {
            return say(chat, texts::channel_not_linked(title.as_deref(), id));
        }
        say(chat, texts::channel_unlinked(title.as_deref(), id, removed))
    }

    /// A tap on a `/channel` search result: checked again (allow-list, the bot's standing in the
    /// channel, the search), then the channel subscribes to the area and the link is kept. A
    /// redelivered tap finds both already there and changes nothing.
    async fn tap_channel(
        &self,
        query: &CallbackQuery,
        list: &TgMessage,
        area: &AreaRef,
    ) -> Handled {
        let chat = ChatId(list.chat.id);
        if !self.settings.may_link_channels(query.from, chat) {
            info!(%chat, user = query.from.map(|u| u.id), "channel link refused: not on the allow-list");
            return answer(query, texts::channel_not_allowed(query.from.map(|u| u.id)));
        }
        let Some(asked) = list.reply_to_message.as_deref() else {
            return answer(query, texts::choice_expired());
        };
        let args = match command::parse(asked, &self.settings.bot_username) {
            Addressed::Command { name, args, .. } if name == "channel" => args,
            _ => return answer(query, texts::choice_expired()),
        };
        let (first, search_text) = split_word(&args);
        let (Some(reference), false) = (channels::parse_reference(first), search_text.is_empty())
        else {
            return answer(query, texts::choice_expired());
        };
        let info = match self.postable_channel(&reference).await {
            Ok(info) => info,
            Err(text) => return answer(query, text),
        };
        let channel = ChatId(info.id);
        let followed = self.ports.store.areas_of(channel).await?;
        let already = followed.iter().any(|a| area.matches(&a.id));
        if !already && followed.len() >= self.settings.max_areas_per_chat {
            return answer(
                query,
                texts::too_many_areas(self.settings.max_areas_per_chat),
            );
        }
        let found = match self.search(chat, search_text).await? {
            Ok(found) => found,
            Err(text) => return answer(query, text),
        };
        let Some(chosen) = found.into_iter().find(|a| area.matches(&a.id)) else {
            return answer(query, texts::choice_expired());
        };
        let now = self.ports.clock.now();
        // The subscription first: a link is only shown for a channel that gets the posts.
        let subscribed = self.ports.store.subscribe(channel, &chosen, now).await?;
        let link = ChannelLink::new(
            channel,
            chosen.id.clone(),
            info.title.as_deref().unwrap_or_default(),
            channels::join_url(&info),
            query.from.map_or(chat.0, |u| u.id),
        );
        let linked = self.ports.store.link_channel(&link, now).await?;
        let new = subscribed || linked;
        info!(%chat, %channel, area = %chosen.id, new, user = link.linked_by, "channel linked");
        self.answer_first(query, texts::channel_linked_toast(&chosen))
            .await;
        Ok(Some(Reply::Edit {
            chat,
            message_id: list.message_id,
            message: Message::plain(texts::channel_linked(
                info.title.as_deref(),
                info.id,
                &chosen,
                new,
            )),
        }))
    }

    /// The channel as Telegram knows it (`getChat`); `Err` holds what to tell the user.
    async fn look_up_channel(&self, reference: &ChatRef) -> Result<ChatInfo, String> {
        match self
            .within_budget("getChat", self.ports.channels.chat(reference))
            .await
        {
            Some(Ok(info)) => Ok(info),
            Some(Err(err)) => Err(channel_error(&err, texts::channel_not_found())),
            None => Err(texts::channel_check_failed()),
        }
    }

    /// The channel, once Telegram confirms the bot is an administrator allowed to post there.
    async fn postable_channel(&self, reference: &ChatRef) -> Result<ChatInfo, String> {
        let info = self.look_up_channel(reference).await?;
        if info.kind != "channel" {
            return Err(texts::channel_not_a_channel());
        }
        let title = info.title.as_deref();
        let member = match self
            .within_budget(
                "getChatMember",
                self.ports.channels.bot_member(ChatId(info.id)),
            )
            .await
        {
            Some(Ok(member)) => member,
            Some(Err(err)) => {
                return Err(channel_error(
                    &err,
                    texts::channel_not_admin(title, info.id),
                ));
            }
            None => return Err(texts::channel_check_failed()),
        };
        match channels::postable(&info, &member) {
            Ok(()) => Ok(info),
            Err(NotPostable::NotAChannel) => Err(texts::channel_not_a_channel()),
            Err(NotPostable::NotAdmin) => Err(texts::channel_not_admin(title, info.id)),
            Err(NotPostable::CannotPost) => Err(texts::channel_cannot_post(title, info.id)),
        }
    }

    /// Stops the tapped button's spinner when the response body is taken by another reply. A
    /// failure costs only the toast, so it is logged, not fatal.
    async fn answer_first(&self, query: &CallbackQuery, text: String) {
        let answer = AnswerCallbackQuery::new(&query.id).with_text(text);
        let answered = self
            .within_budget("answerCallbackQuery", self.ports.answers.answer(&answer))
            .await;
        if let Some(Err(err)) = answered {
            warn!(callback = %query.id, error_name = %err.error_name(), error = %err, "callback not answered");
        }
    }

    async fn on_membership(&self, member: &ChatMemberUpdated) -> Handled {
        let chat = ChatId(member.chat.id);
        if member.new_chat_member.is_gone() {
            let removed = self.ports.store.remove_chat(chat).await?;
            info!(%chat, removed, "bot removed or blocked: subscriptions dropped");
        } else if member.chat.kind == ChatKind::Channel
            && !member.new_chat_member.can_post_to_channel()
        {
            // Demoted in a linked channel: its posts would be refused, so it is unlinked as if
            // the bot had left (an operator links it again once the right is back).
            let removed = self.ports.store.remove_chat(chat).await?;
            info!(%chat, removed, status = %member.new_chat_member.status, "bot may no longer post to the channel: unlinked");
        }
        Ok(None)
    }
}

/// One button per area; an area whose button cannot be built is left out and logged (the data is
/// short by construction, so this is a bug, not an input).
fn keyboard(
    areas: &[Area],
    prefix: &str,
    action: impl Fn(&crate::domain::AreaId) -> CallbackAction,
) -> InlineKeyboard {
    InlineKeyboard::column(areas.iter().filter_map(|area| {
        InlineButton::callback(texts::area_button(prefix, area), action(&area.id).encode())
            .map_err(|err| error!(area = %area.id, error = %err, "button not built"))
            .ok()
    }))
}

/// What to tell an operator when Telegram refused or failed a channel lookup: `refused` when it
/// refused this chat (a permanent answer about the request), else to try again later.
fn channel_error(err: &TelegramError, refused: String) -> String {
    let name = err.error_name();
    warn!(error_name = %name, error = %err, "channel lookup failed");
    match err {
        TelegramError::Forbidden { .. }
        | TelegramError::Rejected { .. }
        | TelegramError::ChatMigrated { .. } => refused,
        _ => texts::channel_check_failed(),
    }
}

/// The first word of `text` and the rest, both trimmed.
fn split_word(text: &str) -> (&str, &str) {
    let text = text.trim();
    match text.split_once(char::is_whitespace) {
        Some((first, rest)) => (first, rest.trim()),
        None => (text, ""),
    }
}

/// The chat's `/refresh` cooldown lease.
fn refresh_cooldown_key(chat: ChatId) -> String {
    format!("refresh-cooldown:{chat}")
}

/// Who holds a lease taken while handling an update: the update itself, so its redelivery is
/// recognised as the same request.
fn update_holder(update_id: i64) -> String {
    format!("tg-update:{update_id}")
}

/// Where an update we could not finish is answered (`text`: an apology or "try again"): its chat,
/// or its button.
fn reply_to(update: &Update, text: String) -> Option<Reply> {
    if let Some(message) = &update.message {
        return Some(Reply::Send {
            chat: ChatId(message.chat.id),
            message: Message::plain(text),
            reply_to: None,
        });
    }
    update
        .callback_query
        .as_ref()
        .map(|query| Reply::AnswerCallback(AnswerCallbackQuery::new(&query.id).with_text(text)))
}
