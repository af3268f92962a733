import { RecordTypeError, TaskFailedError, type ChannelId, type ChannelSender, type Frame } from '@mobius/interface';

/**
 * An output channel's sender that names the operator whose records it carries when the codec
 * refuses one (RecordTypeError): a flush can run outside that operator's call (linger timer,
 * end of input), where the task would otherwise report only the head of its chain.
 */
export class NamedSender implements ChannelSender {
  constructor(
    private readonly inner: ChannelSender,
    private readonly operatorId: string,
    private readonly operatorName: string,
    private readonly taskIndex: number,
  ) {}

  get channel(): ChannelId {
    return this.inner.channel;
  }

  get credits(): number {
    return this.inner.credits;
  }

  trySend(frame: Frame): boolean {
    try {
      return this.inner.trySend(frame);
    } catch (e) {
      if (e instanceof RecordTypeError) throw new TaskFailedError(this.operatorId, this.operatorName, this.taskIndex, e);
      throw e;
    }
  }

  whenWritable(): Promise<void> {
    return this.inner.whenWritable();
  }

  close(): void {
    this.inner.close();
  }
}
