// Call counters behind `emulator.stats`: DNS questions (total and per name)
// and API calls per operation.

import type { Emulator } from './index.js'

export class Counters {
  #dnsTotal = 0
  readonly #dnsByName = new Map<string, number>()
  readonly #api = new Map<string, number>()

  /** One received DNS message with these question names (none for garbage). */
  dns(names: readonly string[]): void {
    if (names.length === 0) {
      this.#dnsTotal++
      return
    }
    for (const name of names) {
      this.#dnsTotal++
      this.#dnsByName.set(name, (this.#dnsByName.get(name) ?? 0) + 1)
    }
  }

  /** One API request for `operation` ('' when the target was missing or foreign). */
  api(operation: string): void {
    this.#api.set(operation, (this.#api.get(operation) ?? 0) + 1)
  }

  /** The read side handed out as `emulator.stats`. */
  view(): Omit<Emulator['stats'], 'apiHeld'> {
    return {
      dnsQueries: () => this.#dnsTotal,
      dnsQueriesFor: (name) => this.#dnsByName.get(name.toLowerCase().replace(/\.$/, '')) ?? 0,
      apiCalls: (operation) => {
        if (operation !== undefined) return this.#api.get(operation) ?? 0
        let total = 0
        for (const count of this.#api.values()) total += count
        return total
      },
      reset: () => {
        this.#dnsTotal = 0
        this.#dnsByName.clear()
        this.#api.clear()
      },
    }
  }
}
