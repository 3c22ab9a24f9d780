// The one error type the pages see from the API: the HTTP status and the server's one-line message
// ({"error": "..."}), or status 0 when the server could not be reached at all.

export class ApiError extends Error {
  /**
   * @param {number} status  the HTTP status, 0 when no answer came
   * @param {string} message one line naming the problem, shown to the reader as it is
   */
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}
