import { RecordTypeError, TaskFailedError, type ChannelSender, type Frame } from '@mobius/interface';
import { DelegatingSender } from '@mobius/plugin-kit';

/**
 * An output channel's sender that names the operator whose records it carries when the codec
 * refuses one (RecordTypeError): a flush can run outside that operator's call (linger timer,
 * end of input), where the task would otherwise report only the head of its chain.
 */
export class NamedSender extends DelegatingSender {
  constructor(
    inner: ChannelSender,
    private readonly operatorId: string,
    private readonly operatorName: string,
    private readonly taskIndex: number,
  ) {
    super(inner);
  }

  trySend(frame: Frame): boolean {
    try {
      return this.inner.trySend(frame);
    } catch (e) {
      if (e instanceof RecordTypeError) throw new TaskFailedError(this.operatorId, this.operatorName, this.taskIndex, e);
      throw e;
    }
  }
}
