// Сигнал: the emulator chat page. Talks to the emulator's control API; builds every message from DOM nodes
// (text nodes for text, elements only for Telegram's entity types) and never parses bot or user text as HTML.
"use strict";

(() => {
  const $ = (selector) => document.querySelector(selector);
  const ui = {
    app: $("#app"), people: $("#people"), messages: $("#messages"), placeholder: $("#placeholder"),
    placeholderText: $("#placeholder-text"), keyboard: $("#keyboard"), composer: $("#composer"), text: $("#text"),
    send: $("#send"), status: $("#status"), back: $("#back"), toast: $("#toast"), bot: $("#bot"),
    chatName: $("#chat-name"),
  };
  const state = {
    config: null,
    bot: null,              // {bot_id, name, title}: the bot the page talks to
    people: [],
    peopleKey: "",
    current: null,          // {person_id, full_name, chat_id}
    generation: 0,          // bumped on every chat switch: answers for an older chat are dropped
    rendered: new Map(),    // "bot:message_id" -> element
    keyboardKey: "",
    loaded: false,
    timer: null,
    inFlight: false,
    again: false,
  };

  // --- HTTP ---------------------------------------------------------------------------------------------------

  async function request(url, options) {
    const response = await fetch(url, { cache: "no-store", ...options });
    if (!response.ok) {
      let detail = response.statusText;
      try {
        const body = await response.json();
        detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? body);
      } catch (_) { /* not JSON */ }
      throw new Error(`${response.status} ${detail}`);
    }
    return response.json();
  }

  const post = (url, body) =>
    request(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

  const control = (path) => `${state.config.control_url}${path}`;
  const botId = () => (state.bot == null ? state.config.bot_id : state.bot.bot_id);
  const withBot = (body) => (botId() == null ? body : { ...body, bot: botId() });

  // --- small DOM helpers ------------------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text != null) node.textContent = text;
    return node;
  }

  let toastTimer = null;
  function toast(message) {
    ui.toast.textContent = message;
    ui.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { ui.toast.hidden = true; }, 4000);
  }

  function initials(name) {
    const parts = name.replace(/[()]/g, " ").split(/\s+/).filter(Boolean);
    return ((parts[0] || "?")[0] + (parts[1] ? parts[1][0] : "")).toUpperCase();
  }

  function hue(text) {
    let h = 0;
    for (const char of text) h = (h * 31 + char.codePointAt(0)) % 360;
    return h;
  }

  function time(unix) {
    return new Date(unix * 1000).toLocaleTimeString("ru-RU", { hour: "2-digit", minute: "2-digit" });
  }

  function size(bytes) {
    if (bytes == null) return "";
    if (bytes < 1024) return `${bytes} Б`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1).replace(".", ",")} КБ`;
    return `${(bytes / 1024 / 1024).toFixed(1).replace(".", ",")} МБ`;
  }

  // --- Telegram entities -> DOM -------------------------------------------------------------------------------
  // Offsets are UTF-16 code units, like JavaScript string indexes. Entities are nested by offset (longest first);
  // one that crosses the end of its container is split in two, so any input gives a well-formed tree.

  const byPosition = (a, b) => a.offset - b.offset || b.length - a.length;

  function safeUrl(url) {
    if (typeof url !== "string") return null;
    const trimmed = url.trim();
    if (/^(https?:\/\/|mailto:)/i.test(trimmed)) return trimmed;
    if (/^[\w-]+(\.[\w-]+)+([/?#].*)?$/.test(trimmed)) return `https://${trimmed}`; // "t.me/x" as Telegram shows it
    return null;
  }

  function linkNode(url) {
    const href = safeUrl(url);
    if (href == null) {
      const span = el("span", "link");
      span.title = String(url ?? "");
      return span;
    }
    const link = el("a");
    link.href = href;
    link.target = "_blank";
    link.rel = "noopener noreferrer nofollow";
    link.title = href;
    return link;
  }

  function entityNode(entity, text, fromBot) {
    const covered = text.slice(entity.offset, entity.offset + entity.length);
    switch (entity.type) {
      case "bold": return el("b");
      case "italic": return el("i");
      case "underline": return el("u");
      case "strikethrough": return el("s");
      case "code": return el("code");
      case "pre": {
        const pre = el("pre");
        if (typeof entity.language === "string") pre.dataset.language = entity.language;
        return pre;
      }
      case "blockquote":
      case "expandable_blockquote": return el("blockquote");
      case "spoiler": {
        const spoiler = el("span", "spoiler");
        spoiler.title = "Скрытый текст: нажмите, чтобы показать";
        spoiler.addEventListener("click", () => spoiler.classList.add("revealed"));
        return spoiler;
      }
      case "text_link": return linkNode(entity.url);
      case "url": return linkNode(covered);
      case "email": return linkNode(`mailto:${covered}`);
      case "bot_command": {
        const command = el("span", fromBot ? "command" : "");
        if (fromBot) {
          command.title = "Отправить команду";
          command.addEventListener("click", () => sendText(covered));
        }
        return command;
      }
      default: return el("span", `entity-${String(entity.type).replace(/[^a-z_]/g, "")}`);
    }
  }

  function build(parent, text, from, to, entities, fromBot) {
    let position = from;
    let pending = entities;
    while (pending.length > 0) {
      const entity = pending[0];
      const end = entity.offset + entity.length;
      if (entity.offset > position) parent.append(text.slice(position, entity.offset));
      const inner = [];
      const rest = [];
      let next = 1;
      for (; next < pending.length && pending[next].offset < end; next += 1) {
        const child = pending[next];
        const childEnd = child.offset + child.length;
        if (childEnd <= end) {
          inner.push(child);
        } else {
          inner.push({ ...child, length: end - child.offset });
          rest.push({ ...child, offset: end, length: childEnd - end });
        }
      }
      const node = entityNode(entity, text, fromBot);
      build(node, text, entity.offset, end, inner, fromBot);
      parent.append(node);
      position = end;
      pending = rest.concat(pending.slice(next)).sort(byPosition);
    }
    if (position < to) parent.append(text.slice(position, to));
  }

  function richText(text, entities, fromBot) {
    const node = el("div", "text");
    const valid = (Array.isArray(entities) ? entities : [])
      .filter((e) => Number.isInteger(e.offset) && Number.isInteger(e.length) && e.length > 0)
      .filter((e) => e.offset >= 0 && e.offset + e.length <= text.length)
      .map((e) => ({ ...e }))
      .sort(byPosition);
    build(node, text, 0, text.length, valid, fromBot);
    return node;
  }

  // --- messages ----------------------------------------------------------------------------------------------

  function messageNode(message) {
    const fromBot = Boolean(message.outgoing);
    const wrapper = el("div", "msg");
    wrapper.dataset.testid = "message";
    wrapper.dataset.from = fromBot ? "bot" : "user";
    wrapper.dataset.messageId = String(message.message_id);
    const bubble = el("div", "bubble");
    wrapper.append(bubble);

    if (message.document) {
      const doc = message.document;
      const link = el("a", "document");
      link.dataset.testid = "document";
      link.href = `/emulator/api/files/${encodeURIComponent(doc.file_id)}`;
      link.download = doc.file_name || "файл";
      link.title = `Скачать ${doc.file_name || "файл"}`;
      const info = el("div");
      info.append(el("div", "document-name", doc.file_name || "файл"), el("div", "document-size", size(doc.file_size)));
      link.append(el("div", "document-icon", "⬇"), info);
      bubble.append(link);
    }
    if (message.text) bubble.append(richText(message.text, message.entities, fromBot));
    if (message.contact) bubble.append(el("div", "contact", `📱 ${message.contact.phone_number}`));

    const meta = el("span", "meta");
    if (message.edit_date) meta.append(el("span", "edited", "изменено"));
    meta.append(time(message.edit_date || message.date));
    bubble.append(meta);

    const rows = message.reply_markup && message.reply_markup.inline_keyboard;
    if (fromBot && Array.isArray(rows) && rows.length > 0) wrapper.append(inlineKeyboard(message, rows));
    return wrapper;
  }

  function inlineKeyboard(message, rows) {
    const keyboard = el("div", "inline-keyboard");
    for (const row of rows) {
      const line = el("div", "inline-row");
      for (const button of Array.isArray(row) ? row : []) {
        const label = String(button.text ?? "");
        const url = button.url != null ? safeUrl(button.url) : null;
        let node;
        if (url != null) {
          node = el("a", "inline-button", `${label} ↗`);
          node.href = url;
          node.target = "_blank";
          node.rel = "noopener noreferrer nofollow";
        } else {
          node = el("button", "inline-button", label);
          node.type = "button";
          if (typeof button.callback_data === "string") {
            node.addEventListener("click", () => press(message, button.callback_data, node));
          } else {
            node.disabled = true;
            node.title = "Эта кнопка в эмуляторе не работает";
          }
        }
        node.dataset.testid = "inline-button";
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  function signature(message) {
    const doc = message.document ? message.document.file_id : null;
    return JSON.stringify([message.text, message.entities, message.reply_markup, doc, message.edit_date]);
  }

  function render(list) {
    const box = ui.messages;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
    const seen = new Set();
    let previous = null;
    let added = false;
    for (const message of list) {
      if (message.deleted) continue;
      const key = `${message.bot_id}:${message.message_id}`;
      seen.add(key);
      const sig = signature(message);
      let node = state.rendered.get(key);
      if (node == null || node.dataset.sig !== sig) {
        const fresh = messageNode(message);
        fresh.dataset.sig = sig;
        if (node != null) node.replaceWith(fresh);
        else if (previous != null) previous.after(fresh);
        else box.prepend(fresh);
        added = added || node == null;
        state.rendered.set(key, fresh);
        node = fresh;
      }
      previous = node;
    }
    for (const [key, node] of state.rendered) {
      if (!seen.has(key)) {
        node.remove();
        state.rendered.delete(key);
      }
    }
    if (added && (atBottom || !state.loaded)) box.scrollTop = box.scrollHeight;
    state.loaded = true;
    showPlaceholder(seen.size === 0 ? "empty" : null);
    renderReplyKeyboard(list);
  }

  // The reply keyboard is the one the last bot message with a keyboard set, unless a later one removed it
  // (or it was one-time and the user has written since).
  function renderReplyKeyboard(list) {
    let keyboard = null;
    for (const message of list) {
      if (message.deleted) continue;
      const markup = message.reply_markup;
      if (message.outgoing && markup) {
        if (Array.isArray(markup.keyboard)) keyboard = markup;
        else if (markup.remove_keyboard) keyboard = null;
      } else if (!message.outgoing && keyboard && keyboard.one_time_keyboard) {
        keyboard = null;
      }
    }
    const key = JSON.stringify(keyboard);
    if (key === state.keyboardKey) return;
    state.keyboardKey = key;
    ui.keyboard.replaceChildren();
    ui.keyboard.hidden = keyboard == null;
    if (keyboard == null) return;
    if (keyboard.input_field_placeholder) ui.text.placeholder = String(keyboard.input_field_placeholder);
    for (const row of keyboard.keyboard) {
      const line = el("div", "reply-row");
      for (const button of Array.isArray(row) ? row : []) {
        const label = typeof button === "string" ? button : String(button.text ?? "");
        const node = el("button", "reply-button", label);
        node.type = "button";
        node.dataset.testid = "reply-button";
        const shares = typeof button === "object" && button !== null && button.request_contact === true;
        node.addEventListener("click", () => (shares ? shareContact() : sendText(label)));
        line.append(node);
      }
      ui.keyboard.append(line);
    }
  }

  function showPlaceholder(kind) {
    ui.placeholder.hidden = kind == null;
    if (kind == null) return;
    ui.placeholderText.replaceChildren();
    if (kind === "choose") {
      ui.placeholderText.append("Выберите сотрудника слева, чтобы открыть его чат с ботом.");
    } else if (kind === "empty") {
      ui.placeholderText.append("Здесь пока нет сообщений. Начните диалог с ботом — он ответит, как в Telegram.");
      const start = el("button", "", "Начать");
      start.type = "button";
      start.dataset.testid = "start-button";
      start.addEventListener("click", () => sendText("/start"));
      ui.placeholderText.append(el("br"), start);
    }
  }

  // --- polling -----------------------------------------------------------------------------------------------

  function setStatus(text, offline) {
    ui.status.textContent = text;
    ui.status.classList.toggle("offline", Boolean(offline));
  }

  function chatStatus() {
    const person = state.current;
    return person.person_id == null ? `гость · чат ${person.chat_id}` : `${person.full_name} · чат ${person.chat_id}`;
  }

  async function poll() {
    if (state.current == null) return;
    if (state.inFlight) {
      state.again = true;
      return;
    }
    state.inFlight = true;
    clearTimeout(state.timer);
    const generation = state.generation;
    const person = state.current;
    try {
      const botFilter = botId() == null ? "" : `&bot_id=${botId()}`;
      const list = await request(control(`/chats/${person.chat_id}/messages?incoming=true${botFilter}`));
      if (generation === state.generation) {
        render(list);
        setStatus(chatStatus(), false);
      }
    } catch (error) {
      if (generation === state.generation) setStatus("нет связи с сервером — повторяю…", true);
    } finally {
      state.inFlight = false;
    }
    if (state.again) {
      state.again = false;
      poll();
      return;
    }
    if (state.current != null) state.timer = setTimeout(poll, state.config.poll_ms || 700);
  }

  // --- actions -----------------------------------------------------------------------------------------------

  async function sendText(text) {
    const person = state.current;
    if (person == null || !text.trim()) return;
    try {
      await post(control(`/chats/${person.chat_id}/messages`), withBot({ text }));
    } catch (error) {
      toast(`Сообщение не отправлено: ${error.message}`);
      return;
    }
    poll();
  }

  // A «share my number» reply button: Telegram sends the user's own contact; the page asks for the number
  // (a demo employee's own is offered) and sends it the same way.
  async function shareContact() {
    const person = state.current;
    if (person == null) return;
    const phone = window.prompt("Ваш номер телефона (уходит боту как ваш контакт):", person.phone || "+7 ");
    if (phone == null || !phone.trim()) return;
    try {
      await post(control(`/chats/${person.chat_id}/contacts`), withBot({ phone_number: phone.trim(), first_name: person.full_name || "" }));
    } catch (error) {
      toast(`Контакт не отправлен: ${error.message}`);
      return;
    }
    poll();
  }

  async function press(message, data, node) {
    const person = state.current;
    if (person == null) return;
    node.classList.add("pressed");
    setTimeout(() => node.classList.remove("pressed"), 700);
    let answer;
    try {
      answer = await post(control(`/chats/${person.chat_id}/callbacks`), withBot({ message_id: message.message_id, data }));
    } catch (error) {
      toast(`Кнопка не сработала: ${error.message}`);
      return;
    }
    poll();
    showCallbackAnswer(answer.callback_query_id);
  }

  // The bot may answer a press with a notification («answerCallbackQuery» text): show it as Telegram does.
  async function showCallbackAnswer(queryId) {
    for (let attempt = 0; attempt < 10; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      try {
        const query = await request(control(`/callbacks/${encodeURIComponent(queryId)}`));
        if (query.answer != null) {
          if (query.answer.text) toast(String(query.answer.text));
          return;
        }
      } catch (_) {
        return;
      }
    }
  }

  function select(person) {
    state.current = person;
    state.generation += 1;
    state.rendered.clear();
    state.keyboardKey = "";
    state.loaded = false;
    ui.messages.replaceChildren();
    ui.keyboard.replaceChildren();
    ui.keyboard.hidden = true;
    ui.text.placeholder = "Сообщение";
    ui.text.disabled = false;
    ui.send.disabled = false;
    ui.app.dataset.view = "chat";
    showPlaceholder(null);
    setStatus(chatStatus(), false);
    for (const item of ui.people.querySelectorAll(".person")) {
      item.setAttribute("aria-current", String(item.dataset.chatId === String(person.chat_id)));
    }
    const botHash = state.bot == null ? "" : `&bot=${encodeURIComponent(state.bot.name)}`;
    history.replaceState(null, "", `#chat=${person.chat_id}${botHash}`);
    if (window.matchMedia("(min-width: 721px)").matches) ui.text.focus();
    clearTimeout(state.timer);
    poll();
  }

  function renderPeople() {
    ui.people.replaceChildren();
    if (state.people.length === 0) ui.people.append(el("li", "people-empty", "Нет сотрудников, подключённых к боту."));
    for (const person of state.people) {
      const item = el("li");
      item.dataset.person = person.full_name;
      const button = el("button", "person");
      button.type = "button";
      button.dataset.chatId = String(person.chat_id);
      const current = state.current != null && state.current.chat_id === person.chat_id;
      button.setAttribute("aria-current", String(current));
      const guest = person.person_id == null;
      const avatar = el("div", guest ? "avatar avatar-guest" : "avatar", guest ? "?" : initials(person.full_name));
      if (!guest) {
        const h = hue(person.full_name);
        avatar.style.background = `linear-gradient(135deg, hsl(${h} 75% 68%), hsl(${(h + 25) % 360} 65% 52%))`;
      }
      const text = el("div", "person-text");
      const sub = guest ? `не подключён · ключ ${person.chat_id}` : `чат ${person.chat_id}`;
      text.append(el("div", "person-name", person.full_name), el("div", "person-sub", sub));
      button.append(avatar, text);
      button.addEventListener("click", () => select(person));
      item.append(button);
      ui.people.append(item);
    }
  }

  async function loadPeople() {
    let people;
    let asked = null;
    try {
      asked = state.bot;
      const bot = asked == null ? "" : `?bot=${encodeURIComponent(asked.name)}`;
      people = await request(`/emulator/api/people${bot}`);
    } catch (error) {
      if (state.people.length === 0) toast(`Не удалось загрузить сотрудников: ${error.message}`);
      return;
    }
    if (asked !== state.bot) return; // the bot was switched meanwhile: that answer is another bot's
    const key = JSON.stringify(people);
    if (key === state.peopleKey) return;
    state.peopleKey = key;
    state.people = people;
    renderPeople();
    if (state.current != null) {
      // the chosen chat may have been linked to someone meanwhile: keep the chat, refresh its name
      const same = people.find((p) => p.chat_id === state.current.chat_id);
      if (same != null) state.current = same;
      setStatus(chatStatus(), false);
    }
  }

  // The bot picker: the system bot and the directory's bots; a switch keeps the chat when the person has one there.
  function renderBots() {
    ui.bot.replaceChildren();
    for (const bot of state.config.bots || []) {
      const option = el("option", "", String(bot.title));
      option.value = String(bot.name);
      option.selected = state.bot != null && bot.name === state.bot.name;
      ui.bot.append(option);
    }
    ui.bot.disabled = (state.config.bots || []).length < 2;
  }

  async function chooseBot(name) {
    const bot = (state.config.bots || []).find((b) => b.name === name);
    if (bot == null) return;
    state.bot = bot;
    ui.chatName.textContent = String(bot.title);
    const chatId = state.current == null ? null : state.current.chat_id;
    state.peopleKey = "";
    await loadPeople();
    const same = chatId == null ? null : state.people.find((p) => p.chat_id === chatId);
    if (same != null) {
      select(same);
    } else if (state.current != null) {
      state.current = null;
      state.generation += 1;
      clearTimeout(state.timer);
      ui.messages.replaceChildren();
      ui.text.disabled = true;
      ui.send.disabled = true;
      setStatus("выберите сотрудника", false);
      showPlaceholder("choose");
    }
  }

  async function main() {
    ui.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = ui.text.value;
      if (!text.trim()) return;
      ui.text.value = "";
      sendText(text);
    });
    ui.back.addEventListener("click", () => { ui.app.dataset.view = "list"; });
    showPlaceholder("choose");
    try {
      state.config = await request("/emulator/api/config");
    } catch (error) {
      setStatus("сервер недоступен", true);
      toast(`Не удалось загрузить настройки: ${error.message}`);
      return;
    }
    const bots = state.config.bots || [];
    const wantedBot = /[#&]bot=([^&]+)/.exec(location.hash);
    state.bot = (wantedBot && bots.find((b) => b.name === decodeURIComponent(wantedBot[1]))) || bots[0] || null;
    if (state.bot != null) ui.chatName.textContent = String(state.bot.title);
    renderBots();
    ui.bot.addEventListener("change", () => chooseBot(ui.bot.value));
    await loadPeople();
    setInterval(loadPeople, 5000);
    const wanted = /^#chat=(-?\d+)(&|$)/.exec(location.hash);
    const person = wanted && state.people.find((p) => String(p.chat_id) === wanted[1]);
    if (person) select(person);
  }

  main();
})();
